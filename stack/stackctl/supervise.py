"""Supervising services: start a daemon and wait for its health check, run a job, stop a daemon;
`up` and `down` for a whole instance."""

from __future__ import annotations

import os
import pwd
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from . import supervisor
from .config import (
    MANIFEST,
    ROOT,
    expand,
    load_manifest,
    load_manifest_all,
    process_env,
    service_port,
    without_superuser,
)
from .install import install, needed_installs
from .prepare import prepare_named
from .proc import StackError, log, log_tail, write_private

HEALTH_TIMEOUT_S = 180
STOP_TIMEOUT_S = 45


def paths(cfg: dict[str, str], name: str) -> tuple[Path, Path]:
    """The pid file and log file of a service (their directories created)."""
    state = Path(cfg["STATE_DIR"])
    (state / "run").mkdir(parents=True, exist_ok=True)
    (state / "logs").mkdir(parents=True, exist_ok=True)
    return state / "run" / f"{name}.pid", state / "logs" / f"{name}.log"


def running_pid(cfg: dict[str, str], name: str) -> int | None:
    """The pid of a service this instance started and that still runs, else None."""
    pidfile, _ = paths(cfg, name)
    if not pidfile.exists():
        return None
    try:
        pid = int(pidfile.read_text().strip())
    except ValueError:
        pidfile.unlink(missing_ok=True)
        return None
    # A service this process started and that died stays a zombie until it is reaped (the test
    # runner starts services and lives on): it is not running, so it does not block a restart.
    if not pid_alive(pid):
        pidfile.unlink(missing_ok=True)
        return None
    # Guard against pid reuse: the process must still carry our marker in its environment.
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return pid
    if f"WEBSHOP_SERVICE={cfg['STACK_INSTANCE']}/{name}".encode() not in environ:
        pidfile.unlink(missing_ok=True)
        return None
    return pid


def port_owner(port: int) -> str | None:
    """Who listens on 127.0.0.1:port, or None when the port is free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        if sock.connect_ex(("127.0.0.1", port)) != 0:
            return None
    found = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=False
    )
    return found.stdout.strip() or "an unknown process"


def service_command(svc: dict, cfg: dict[str, str], key: str = "command") -> list[str]:
    """A service's `command` (or `health`) from the manifest, with ${KEY}s expanded."""
    return [expand(arg, cfg) for arg in svc[key]]


def service_env(svc: dict, cfg: dict[str, str]) -> dict[str, str]:
    """The process environment plus the service's own manifest `env`, expanded."""
    env = without_superuser(process_env(cfg), svc)
    env.update({k: expand(v, cfg) for k, v in svc.get("env", {}).items()})
    return env


def healthy(svc: dict, cfg: dict[str, str]) -> bool:
    """Runs the service's health command: exit 0 within 30 s is healthy."""
    cmd = service_command(svc, cfg, "health")
    try:
        return (
            subprocess.run(
                cmd, env=process_env(cfg), cwd=ROOT, capture_output=True, timeout=30, check=False
            ).returncode
            == 0
        )
    except subprocess.TimeoutExpired:
        return False


def check_port(svc: dict, cfg: dict[str, str]) -> None:
    """Fails naming the owner when the service's port is taken."""
    port_var, port = svc.get("port"), service_port(svc, cfg)
    if port:
        owner = port_owner(int(port))
        if owner:
            derived = f"{port_var} + {svc['port_offset']}" if svc.get("port_offset") else port_var
            raise StackError(
                f"{svc['name']}: port {port} ({derived}) is already taken by: "
                f"{owner}\nStop that process or set {port_var} in .env"
            )


Waiter = Callable[[], None]


def start_daemon(svc: dict, cfg: dict[str, str]) -> None:
    """Starts a daemon unless it runs; a taken port is named; waits for health."""
    launch_daemon(svc, cfg)()


def launch_daemon(svc: dict, cfg: dict[str, str]) -> Waiter:
    """Starts a daemon unless it runs; returns the wait for its health (the nodes of a quorum
    are all launched before any is waited for: none is healthy alone)."""
    if svc.get("supervised"):
        return launch_supervised(svc, cfg)
    name = svc["name"]
    pidfile, logfile = paths(cfg, name)
    if running_pid(cfg, name):
        if healthy(svc, cfg):
            log(f"{name}: already running and healthy")
            return lambda: None
        return lambda: wait_healthy(svc, cfg)
    check_port(svc, cfg)
    if svc.get("prepare"):
        prepare_named(svc["prepare"], cfg, replica=svc.get("replica", 1))
    env = service_env(svc, cfg)
    env["WEBSHOP_SERVICE"] = f"{cfg['STACK_INSTANCE']}/{name}"
    cmd = service_command(svc, cfg)
    log(f"{name}: starting")
    with open(logfile, "ab") as out:
        out.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} start: {shlex.join(cmd)}\n".encode())
        out.flush()
        kwargs: dict = {}
        if svc.get("run_as") and os.geteuid() == 0:
            kwargs = {"user": svc["run_as"], "group": svc["run_as"], "extra_groups": []}
            os.chown(logfile, pwd.getpwnam(svc["run_as"]).pw_uid, -1)
        proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=ROOT if not svc.get("run_as") else "/",
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            **kwargs,
        )
    pidfile.write_text(f"{proc.pid}\n")
    return lambda: wait_healthy(
        svc,
        cfg,
        lambda: None if proc.poll() is None else f"exited with code {proc.returncode}",
    )


def supervisord_service(cfg: dict[str, str]) -> dict:
    """The instance's supervisord as a daemon of its own (not in the manifest)."""
    bin_dir = Path(cfg["SUPERVISOR_VENV"]) / "bin"
    return {
        "name": supervisor.NAME,
        "kind": "daemon",
        "command": [str(bin_dir / "supervisord"), "-c", str(supervisor.conf_path(cfg))],
        "health": ["test", "-S", str(supervisor.socket_path(cfg))],
        "stop_signal": "SIGTERM",
    }


def ensure_supervisord(cfg: dict[str, str]) -> None:
    """Starts the instance's supervisord, with no program loaded, unless it answers."""
    if supervisor.reachable(cfg):
        return
    conf = supervisor.conf_path(cfg)
    conf.parent.mkdir(parents=True, exist_ok=True)
    write_private(conf, supervisor.render_conf(cfg, []))
    supervisor.socket_path(cfg).unlink(missing_ok=True)
    start_daemon(supervisord_service(cfg), cfg)
    supervisor.wait_reachable(cfg)


def supervised_env(svc: dict, cfg: dict[str, str]) -> dict[str, str]:
    """A supervised service's whole environment, as an unsupervised one gets it, plus the marker."""
    env = service_env(svc, cfg)
    env["WEBSHOP_SERVICE"] = f"{cfg['STACK_INSTANCE']}/{svc['name']}"
    return env


def supervised_failure(cfg: dict[str, str], name: str) -> str | None:
    """Why a supervised service is not coming up, or None while it runs or retries."""
    current = supervisor.info(cfg, name)
    if current is None:
        return "is unknown to supervisord"
    if current["statename"] == "FATAL":
        return f"gave up after {supervisor.START_RETRIES + 1} failed starts"
    if current["statename"] in ("EXITED", "STOPPED"):
        return f"exited with code {current['exitstatus']}"
    return None


def launch_supervised(svc: dict, cfg: dict[str, str]) -> Waiter:
    """Starts a service under the instance's supervisord unless it runs; returns the wait for
    its health."""
    name = svc["name"]
    current = supervisor.info(cfg, name)
    failed = lambda: supervised_failure(cfg, name)  # noqa: E731
    if current is not None and current["statename"] in ("STARTING", "RUNNING", "BACKOFF"):
        if healthy(svc, cfg):
            log(f"{name}: already running and healthy")
            return lambda: None
        return lambda: wait_healthy(svc, cfg, failed)
    check_port(svc, cfg)
    if svc.get("prepare"):
        prepare_named(svc["prepare"], cfg, replica=svc.get("replica", 1))
    paths(cfg, name)
    ensure_supervisord(cfg)
    supervisor.write_spec(svc, cfg, supervised_env(svc, cfg))
    supervisor.load(cfg, name, supervisor.program_section(svc, cfg))
    log(f"{name}: starting (supervised)")
    supervisor.start(cfg, name)
    return lambda: wait_healthy(svc, cfg, failed)


def wait_healthy(
    svc: dict, cfg: dict[str, str], failed: Callable[[], str | None] | None = None
) -> None:
    """Polls the health check until it passes; a process that fails first (`failed` says why)."""
    name = svc["name"]
    _, logfile = paths(cfg, name)
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        reason = failed() if failed is not None else None
        if reason is not None:
            raise StackError(
                f"{name}: {reason} while starting. Log tail ({logfile}):\n{log_tail(logfile)}"
            )
        if healthy(svc, cfg):
            log(f"{name}: healthy")
            return
        time.sleep(1)
    raise StackError(
        f"{name}: not healthy after {HEALTH_TIMEOUT_S}s. Log tail ({logfile}):\n{log_tail(logfile)}"
    )


def run_job(svc: dict, cfg: dict[str, str]) -> None:
    """Runs a job (after its prepare step) to completion; a non-zero exit fails with the log
    tail."""
    name = svc["name"]
    _, logfile = paths(cfg, name)
    if svc.get("prepare"):
        prepare_named(svc["prepare"], cfg)
    env = service_env(svc, cfg)
    cmd = service_command(svc, cfg)
    log(f"{name}: running")
    with open(logfile, "ab") as out:
        out.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} run: {shlex.join(cmd)}\n".encode())
        out.flush()
        code = subprocess.run(
            cmd,
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        ).returncode
    if code != 0:
        raise StackError(
            f"{name}: failed with exit code {code}. Log tail ({logfile}):\n{log_tail(logfile)}"
        )
    log(f"{name}: done")


def pid_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def group_members(pgid: int) -> list[int]:
    """The live (non-zombie) processes whose process group is pgid."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # fields after the command name: state, ppid, pgrp, ...
        if fields[2] == str(pgid) and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def kill_group(pgid: int, sig: int) -> None:
    """Sends sig to a process group; a group that is gone already is fine."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def wait_group_gone(name: str, pgid: int, timeout_s: float) -> None:
    """Waits until no process of the group remains; SIGKILLs the group after the timeout."""
    deadline = time.monotonic() + timeout_s
    while group_members(pgid):
        if time.monotonic() >= deadline:
            log(f"{name}: still running after the stop timeout, killing its process group")
            kill_group(pgid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while group_members(pgid) and time.monotonic() < deadline:
                time.sleep(0.1)
            return
        time.sleep(0.3)


def stop_daemon(svc: dict, cfg: dict[str, str]) -> None:
    """Stops a daemon's whole process group with its stop signal; SIGKILL after the timeout."""
    signal_daemon(svc, cfg)()


def signal_daemon(svc: dict, cfg: dict[str, str]) -> Waiter:
    """Sends a daemon its stop signal; returns the wait until its process group is gone (the
    nodes of a quorum are all signalled first: the last one alone cannot shut down cleanly)."""
    name = svc["name"]
    timeout_s = float(svc.get("stop_timeout_s", STOP_TIMEOUT_S))
    if svc.get("supervised"):
        # supervisord stops the group and keeps it down; its children may outlive the leader.
        pid = supervisor.stop(cfg, name)
        return (lambda: wait_group_gone(name, pid, timeout_s)) if pid else lambda: None
    pid = running_pid(cfg, name)
    if pid is None:
        return lambda: None
    pidfile, _ = paths(cfg, name)
    sig = getattr(signal, svc.get("stop_signal", "SIGTERM"))
    log(f"{name}: stopping (pid {pid})")
    kill_group(pid, sig)

    def wait() -> None:
        # The leader may exit before its children: wait until no process of the group remains.
        wait_group_gone(name, pid, timeout_s)
        pidfile.unlink(missing_ok=True)

    return wait


def replica_groups(services: list[dict]) -> list[list[dict]]:
    """Services in order, the copies of one replicated service together in one group."""
    groups: list[list[dict]] = []
    for svc in services:
        origin = svc.get("replica_of")
        if origin and groups and groups[-1][0].get("replica_of") == origin:
            groups[-1].append(svc)
        else:
            groups.append([svc])
    return groups


def select_services(
    cfg: dict[str, str], only: list[str], skip: Sequence[str] = (), manifest: Path = MANIFEST
) -> list[dict]:
    """The services `up` starts, in manifest order: the named ones (all of the instance's when
    none is named), minus the skipped ones; an unknown name in either list is an error."""
    everything = load_manifest_all(cfg, manifest)
    unknown = (set(only) | set(skip)) - {s["name"] for s in everything}
    if unknown:
        raise StackError(
            f"Unknown service(s) for instance {cfg['STACK_INSTANCE']}: {', '.join(sorted(unknown))}"
        )
    # A service named explicitly starts even when the instance's profile leaves it out
    # (the test instance runs no continuous workers unless a test asks for them).
    services = (
        [s for s in everything if s["name"] in only] if only else load_manifest(cfg, manifest)
    )
    return [s for s in services if s["name"] not in skip]


def up(cfg: dict[str, str], only: list[str], skip: Sequence[str] = ()) -> None:
    """Installs what is missing, then starts the daemons and runs the jobs, in manifest order
    (`skip`: services left for a later `up`, e.g. the demo's Superset beside the backfill)."""
    services = select_services(cfg, only, skip)
    install(cfg, needed_installs(services))
    for group in replica_groups(services):
        if group[0]["kind"] == "daemon":
            for wait in [launch_daemon(svc, cfg) for svc in group]:
                wait()
        else:
            for svc in group:
                run_job(svc, cfg)
    log(f"instance {cfg['STACK_INSTANCE']} is up")


def down(cfg: dict[str, str]) -> None:
    """Stops every daemon this instance started, in reverse order; data is kept."""
    for group in reversed(replica_groups(load_manifest_all(cfg))):
        if group[0]["kind"] == "daemon":
            for wait in [signal_daemon(svc, cfg) for svc in reversed(group)]:
                wait()
    if "SUPERVISOR_VENV" in cfg:
        stop_daemon(supervisord_service(cfg), cfg)
    log(f"instance {cfg['STACK_INSTANCE']} is down (data kept in {cfg['STATE_DIR']})")
