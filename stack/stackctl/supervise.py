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
from pathlib import Path

from .config import ROOT, expand, load_manifest, load_manifest_all, process_env
from .install import install, needed_installs
from .prepare import prepare_named
from .proc import StackError, log, log_tail

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
    env = process_env(cfg)
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


def start_daemon(svc: dict, cfg: dict[str, str]) -> None:
    """Starts a daemon unless it runs; a taken port is named; waits for health."""
    name = svc["name"]
    pidfile, logfile = paths(cfg, name)
    if running_pid(cfg, name):
        if healthy(svc, cfg):
            log(f"{name}: already running and healthy")
            return
        wait_healthy(svc, cfg)
        return
    port_var = svc.get("port")
    if port_var:
        owner = port_owner(int(cfg[port_var]))
        if owner:
            raise StackError(
                f"{name}: port {cfg[port_var]} ({port_var}) is already taken by: "
                f"{owner}\nStop that process or set {port_var} in .env"
            )
    if svc.get("prepare"):
        prepare_named(svc["prepare"], cfg)
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
    wait_healthy(svc, cfg, proc)


def wait_healthy(svc: dict, cfg: dict[str, str], proc: subprocess.Popen | None = None) -> None:
    """Polls the health check until it passes; a process that exits first fails."""
    name = svc["name"]
    _, logfile = paths(cfg, name)
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(
                f"{name}: exited with code {proc.returncode} while starting. "
                f"Log tail ({logfile}):\n{log_tail(logfile)}"
            )
        if healthy(svc, cfg):
            log(f"{name}: healthy")
            return
        time.sleep(1)
    raise StackError(
        f"{name}: not healthy after {HEALTH_TIMEOUT_S}s. Log tail ({logfile}):\n{log_tail(logfile)}"
    )


def run_job(svc: dict, cfg: dict[str, str]) -> None:
    """Runs a job to completion; a non-zero exit fails with the log tail."""
    name = svc["name"]
    _, logfile = paths(cfg, name)
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


def stop_daemon(svc: dict, cfg: dict[str, str]) -> None:
    """Stops a daemon's whole process group with its stop signal; SIGKILL after the timeout."""
    name = svc["name"]
    pid = running_pid(cfg, name)
    if pid is None:
        return
    pidfile, _ = paths(cfg, name)
    sig = getattr(signal, svc.get("stop_signal", "SIGTERM"))
    log(f"{name}: stopping (pid {pid})")
    kill_group(pid, sig)
    # The leader may exit before its children: wait until no process of the group remains.
    deadline = time.monotonic() + float(svc.get("stop_timeout_s", STOP_TIMEOUT_S))
    while group_members(pid):
        if time.monotonic() >= deadline:
            log(f"{name}: still running after the stop timeout, killing its process group")
            kill_group(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while group_members(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            break
        time.sleep(0.3)
    pidfile.unlink(missing_ok=True)


def up(cfg: dict[str, str], only: list[str]) -> None:
    """Installs what is missing, then starts the daemons and runs the jobs, in manifest order."""
    services = load_manifest(cfg)
    if only:
        unknown = set(only) - {s["name"] for s in services}
        if unknown:
            raise StackError(
                f"Unknown service(s) for instance {cfg['STACK_INSTANCE']}: "
                f"{', '.join(sorted(unknown))}"
            )
        services = [s for s in services if s["name"] in only]
    install(cfg, needed_installs(services))
    for svc in services:
        if svc["kind"] == "daemon":
            start_daemon(svc, cfg)
        else:
            run_job(svc, cfg)
    log(f"instance {cfg['STACK_INSTANCE']} is up")


def down(cfg: dict[str, str]) -> None:
    """Stops every daemon this instance started, in reverse order; data is kept."""
    for svc in reversed(load_manifest_all()):
        if svc["kind"] == "daemon":
            stop_daemon(svc, cfg)
    log(f"instance {cfg['STACK_INSTANCE']} is down (data kept in {cfg['STATE_DIR']})")
