#!/usr/bin/env python3
"""The native stack manager: installs what the pipeline needs and runs its services on loopback.

It reads three things and nothing else:
  versions.env          the one source of versions (PostgreSQL, Kafka, Deno, Python, dbt, Airflow)
  .env.example / .env   settings (ports, passwords, directories); .env overrides the defaults
  stack/services.json   the services manifest: name, command, port, health check, environment

Instances keep their state apart: `dev` (make up) uses the ports from .env; `test` (make test)
adds stack/instances/test.env (own ports, own data directory, no continuous workers), so a test
run never touches a user's running stack.

  stackctl.py [--instance dev|test] install | up [SERVICE...] | down | status | logs [SERVICE]
  stackctl.py [--instance dev|test] env | exec -- COMMAND...

Only the Python standard library is used: this script is what installs everything else.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "stack"
MANIFEST = STACK / "services.json"
HEALTH_TIMEOUT_S = 180
STOP_TIMEOUT_S = 45


class StackError(Exception):
    """A failure the user must see: message plus, where useful, a log tail."""


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    """Parses KEY=VALUE lines (no shell expansion; quotes around the value are removed)."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_config(instance: str) -> dict[str, str]:
    """versions.env < .env.example < .env (dev only) < instances/<instance>.env < process env."""
    cfg: dict[str, str] = {}
    cfg.update(read_env_file(ROOT / "versions.env"))
    cfg.update(read_env_file(ROOT / ".env.example"))
    if instance == "dev":
        cfg.update(read_env_file(ROOT / ".env"))
    cfg.update(read_env_file(STACK / "instances" / f"{instance}.env"))
    # The process environment wins for keys we know, so `PGPORT=6543 make up` works.
    for key in list(cfg):
        if key in os.environ and os.environ[key] != "":
            cfg[key] = os.environ[key]
    cfg["STACK_INSTANCE"] = instance
    # Which manifest profile the instance runs: dev, or test for every isolated instance.
    cfg.setdefault("STACK_PROFILE", "dev" if instance == "dev" else "test")
    cache = Path(cfg["STACK_CACHE_DIR"])
    state = Path(cfg["STACK_STATE_DIR"]) / instance
    pg_bin = Path(f"/usr/lib/postgresql/{cfg['POSTGRES_MAJOR']}/bin")
    cfg.update(
        {
            "PROJECT_DIR": str(ROOT),
            "STATE_DIR": str(state),
            "PG_BIN": str(pg_bin),
            "DENO_HOME": str(cache / f"deno-{cfg['DENO_VERSION']}"),
            "DENO_DIR": str(cache / "deno-dir"),
            "DENO_NO_UPDATE_CHECK": "1",
            "KAFKA_LIBS": str(cache / f"kafka-{cfg['KAFKA_VERSION']}" / "libs"),
            "DBT_VENV": str(cache / f"venv-dbt-{lock_digest('dbt')}"),
            "AIRFLOW_VENV": str(cache / f"venv-airflow-{lock_digest('airflow')}"),
            "PGDATABASE": cfg["WAREHOUSE_DB"],
            "PGUSER": cfg["POSTGRES_USER"],
            "PGPASSWORD": cfg["POSTGRES_PASSWORD"],
            "KAFKA_BROKERS": f"127.0.0.1:{cfg['KAFKA_PORT']}",
            "FAKESTORE_BASE_URL": cfg.get("FAKESTORE_BASE_URL", "").replace(
                "127.0.0.1:3000", f"127.0.0.1:{cfg['FAKESTORE_PORT']}"
            ),
            # dbt: project and profiles at the repository root; no telemetry, no version check.
            "DBT_PROFILES_DIR": str(ROOT),
            "DBT_PROJECT_DIR": str(ROOT),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_VERSION_CHECK": "false",
            "DO_NOT_TRACK": "1",
            "NO_COLOR": "1",
        }
    )
    cfg["DENO_BIN"] = str(Path(cfg["DENO_HOME"]) / "bin" / "deno")
    cfg["DBT_BIN"] = str(Path(cfg["DBT_VENV"]) / "bin" / "dbt")
    cfg["AIRFLOW_BIN"] = str(Path(cfg["AIRFLOW_VENV"]) / "bin" / "airflow")
    return cfg


def lock_digest(name: str) -> str:
    """Short hash of a virtualenv's lock file: a changed lock gets a fresh virtualenv."""
    lock = STACK / "python" / f"{name}.lock.txt"
    if not lock.exists():
        return "nolock"
    return hashlib.sha256(lock.read_bytes()).hexdigest()[:12]


def process_env(cfg: dict[str, str]) -> dict[str, str]:
    """The environment every service, job and `exec` command gets."""
    env = dict(os.environ)
    env.update(cfg)
    tool_bins = [
        str(Path(cfg["DENO_HOME"]) / "bin"),
        str(Path(cfg["DBT_VENV"]) / "bin"),
    ]
    env["PATH"] = os.pathsep.join(tool_bins + [env.get("PATH", "/usr/bin:/bin")])
    return env


def expand(value: str, cfg: dict[str, str]) -> str:
    def repl(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in cfg:
            raise StackError(f"Manifest uses ${{{key}}}, which no configuration file defines")
        return cfg[key]

    return re.sub(r"\$\{([A-Z0-9_]+)\}", repl, value)


def load_manifest(cfg: dict[str, str]) -> list[dict]:
    services = json.loads(MANIFEST.read_text())["services"]
    chosen = []
    for svc in services:
        if cfg["STACK_PROFILE"] not in svc.get("profiles", ["dev", "test"]):
            continue
        enabled_by = svc.get("enabled_by")
        if enabled_by and cfg.get(enabled_by, "0") in ("", "0", "false"):
            continue
        chosen.append(svc)
    return chosen


# --------------------------------------------------------------------------------------------
# Installing (idempotent, cached, pinned)
# --------------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def run(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    quiet: bool = True,
) -> None:
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=quiet, text=True, check=False)
    if result.returncode != 0:
        tail = ((result.stdout or "") + (result.stderr or ""))[-4000:]
        raise StackError(f"Command failed ({result.returncode}): {shlex.join(cmd)}\n{tail}")


_apt_updated = False


def apt_install(*packages: str) -> None:
    global _apt_updated
    if os.geteuid() != 0:
        raise StackError(f"Missing {' '.join(packages)}: install them (apt-get) or run as root")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if not _apt_updated:
        log("apt-get update")
        run(["apt-get", "update", "-q"], env=env)
        _apt_updated = True
    log(f"apt-get install {' '.join(packages)}")
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages], env=env)


def install_postgres(cfg: dict[str, str]) -> None:
    major = cfg["POSTGRES_MAJOR"]
    if not (Path(cfg["PG_BIN"]) / "postgres").exists():
        apt_install(f"postgresql-{major}", f"postgresql-client-{major}")
    # Debian's package creates and starts a `main` cluster on 5432: keep it from taking our port.
    start_conf = Path(f"/etc/postgresql/{major}/main/start.conf")
    if start_conf.exists() and os.geteuid() == 0:
        if start_conf.read_text().strip() != "manual":
            start_conf.write_text("manual\n")
        subprocess.run(["pg_ctlcluster", major, "main", "stop"], capture_output=True, check=False)


def install_java() -> None:
    if shutil.which("java") is None:
        apt_install("openjdk-17-jre-headless")
    if shutil.which("mvn") is None:
        apt_install("maven")


def uv_bin(cfg: dict[str, str]) -> str:
    home = Path(cfg["STACK_CACHE_DIR"]) / f"uv-{cfg['UV_VERSION']}"
    uv = home / "bin" / "uv"
    if not uv.exists():
        log(f"installing uv {cfg['UV_VERSION']}")
        run([sys.executable, "-m", "venv", str(home)])
        run([str(home / "bin" / "pip"), "install", "-q", f"uv=={cfg['UV_VERSION']}"])
    return str(uv)


def install_deno(cfg: dict[str, str]) -> None:
    deno = Path(cfg["DENO_BIN"])
    if deno.exists():
        return
    log(f"installing Deno {cfg['DENO_VERSION']} (PyPI)")
    uv = uv_bin(cfg)
    run([uv, "venv", "-q", "--python", sys.executable, cfg["DENO_HOME"]])
    run(
        [
            uv,
            "pip",
            "install",
            "-q",
            "--python",
            str(Path(cfg["DENO_HOME"]) / "bin" / "python"),
            f"deno=={cfg['DENO_VERSION']}",
        ]
    )


def install_venv(cfg: dict[str, str], name: str) -> None:
    venv = Path(cfg[f"{name.upper()}_VENV"])
    marker = venv / ".installed"
    if marker.exists():
        return
    lock = STACK / "python" / f"{name}.lock.txt"
    log(f"installing the {name} virtualenv from {lock.relative_to(ROOT)}")
    uv = uv_bin(cfg)
    if venv.exists():
        shutil.rmtree(venv)
    run([uv, "venv", "-q", "--python", sys.executable, str(venv)])
    run([uv, "pip", "sync", "-q", "--python", str(venv / "bin" / "python"), str(lock)])
    marker.write_text(lock_digest(name) + "\n")


def install_kafka(cfg: dict[str, str]) -> None:
    libs = Path(cfg["KAFKA_LIBS"])
    marker = libs.parent / ".installed"
    if marker.exists():
        return
    log(f"resolving Apache Kafka {cfg['KAFKA_VERSION']} from Maven Central")
    if libs.exists():
        shutil.rmtree(libs)
    run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(STACK / "kafka" / "pom.xml"),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            f"-Dkafka.version={cfg['KAFKA_VERSION']}",
            f"-Dscala.binary.version={cfg['KAFKA_SCALA_VERSION']}",
        ]
    )
    marker.write_text(cfg["KAFKA_VERSION"] + "\n")


def install_deno_deps(cfg: dict[str, str]) -> None:
    """Fetches every npm package in deno.json into DENO_DIR (checked against deno.lock)."""
    run([cfg["DENO_BIN"], "install", "--quiet"], env=process_env(cfg), cwd=ROOT)


def install(cfg: dict[str, str], parts: set[str] | None = None) -> None:
    Path(cfg["STACK_CACHE_DIR"]).mkdir(parents=True, exist_ok=True)
    steps = {
        "postgres": lambda: install_postgres(cfg),
        "java": install_java,
        "deno": lambda: (install_deno(cfg), install_deno_deps(cfg)),
        "kafka": lambda: install_kafka(cfg),
        "dbt": lambda: install_venv(cfg, "dbt"),
        "airflow": lambda: install_venv(cfg, "airflow"),
    }
    for name, step in steps.items():
        if parts is None or name in parts:
            step()


# --------------------------------------------------------------------------------------------
# Preparing services (first start only, idempotent)
# --------------------------------------------------------------------------------------------


def prepare_postgres(cfg: dict[str, str]) -> None:
    state = Path(cfg["STATE_DIR"]) / "postgres"
    data = state / "data"
    (state / "run").mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(state, "postgres", "postgres")
        shutil.chown(state / "run", "postgres", "postgres")
        os.chmod(state, 0o700)
    if not (data / "PG_VERSION").exists():
        log("initialising the PostgreSQL cluster")
        pwfile = state / "pwfile"
        pwfile.write_text(cfg["POSTGRES_PASSWORD"] + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        try:
            run_as_postgres(
                [
                    f"{cfg['PG_BIN']}/initdb",
                    "-D",
                    str(data),
                    "-U",
                    cfg["POSTGRES_USER"],
                    "--auth-local=peer",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    f"--pwfile={pwfile}",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        conf = data / "postgresql.conf"
        conf.write_text(conf.read_text() + "\ninclude_if_exists = 'webshop_tuning.conf'\n")
    # Tuning is copied on every start so a change in stack/postgres/tuning.conf applies.
    tuning = data / "webshop_tuning.conf"
    tuning.write_text((STACK / "postgres" / "tuning.conf").read_text())
    if os.geteuid() == 0:
        shutil.chown(tuning, "postgres", "postgres")


def run_as_postgres(cmd: list[str]) -> None:
    if os.geteuid() == 0:
        result = subprocess.run(
            cmd,
            user="postgres",
            group="postgres",
            extra_groups=[],
            capture_output=True,
            text=True,
            cwd="/",
            check=False,
        )
    else:
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"{shlex.join(cmd)} failed:\n{(result.stdout + result.stderr)[-3000:]}")


def prepare_kafka(cfg: dict[str, str]) -> None:
    state = Path(cfg["STATE_DIR"]) / "kafka"
    data = state / "data"
    data.mkdir(parents=True, exist_ok=True)
    port, cport = cfg["KAFKA_PORT"], cfg["KAFKA_CONTROLLER_PORT"]
    (
        state / "server.properties"
    ).write_text(f"""# Written by stack/stackctl.py on every start; edit stackctl, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{cport}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={data}
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# The broker's per-message cap; the consumer's own cap sits below it (see docs/events.md).
message.max.bytes=1048588
log.retention.check.interval.ms=60000
""")
    (state / "log4j2.yaml").write_text("""Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        Pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: org.apache.kafka.controller
        level: WARN
      - name: kafka.coordinator
        level: WARN
""")
    if not (data / "meta.properties").exists():
        log("formatting the KRaft metadata directory")
        run(
            [
                "java",
                "-cp",
                f"{cfg['KAFKA_LIBS']}/*",
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cfg["KAFKA_CLUSTER_ID"],
                "-c",
                str(state / "server.properties"),
            ]
        )


PREPARE = {"postgres": prepare_postgres, "kafka": prepare_kafka}


def prepare_named(name: str, cfg: dict[str, str]) -> None:
    if name in PREPARE:
        PREPARE[name](cfg)
        return
    # Later parts of the stack register their own prepare scripts: stack/prepare_<name>.sh
    script = STACK / f"prepare_{name}.sh"
    if not script.exists():
        raise StackError(f"Unknown prepare step {name!r} (no stack/prepare_{name}.sh)")
    run(["bash", str(script)], env=process_env(cfg), cwd=ROOT, quiet=True)


# --------------------------------------------------------------------------------------------
# Running services
# --------------------------------------------------------------------------------------------


def paths(cfg: dict[str, str], name: str) -> tuple[Path, Path]:
    state = Path(cfg["STATE_DIR"])
    (state / "run").mkdir(parents=True, exist_ok=True)
    (state / "logs").mkdir(parents=True, exist_ok=True)
    return state / "run" / f"{name}.pid", state / "logs" / f"{name}.log"


def running_pid(cfg: dict[str, str], name: str) -> int | None:
    pidfile, _ = paths(cfg, name)
    if not pidfile.exists():
        return None
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError, PermissionError):
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


def log_tail(logfile: Path, lines: int = 40) -> str:
    if not logfile.exists():
        return "(no log)"
    return "\n".join(logfile.read_text(errors="replace").splitlines()[-lines:])


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


def healthy(svc: dict, cfg: dict[str, str]) -> bool:
    cmd = [expand(arg, cfg) for arg in svc["health"]]
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
    env = process_env(cfg)
    env.update({k: expand(v, cfg) for k, v in svc.get("env", {}).items()})
    env["WEBSHOP_SERVICE"] = f"{cfg['STACK_INSTANCE']}/{name}"
    cmd = [expand(arg, cfg) for arg in svc["command"]]
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
    name = svc["name"]
    _, logfile = paths(cfg, name)
    env = process_env(cfg)
    env.update({k: expand(v, cfg) for k, v in svc.get("env", {}).items()})
    cmd = [expand(arg, cfg) for arg in svc["command"]]
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


def stop_daemon(svc: dict, cfg: dict[str, str]) -> None:
    name = svc["name"]
    pid = running_pid(cfg, name)
    if pid is None:
        return
    pidfile, _ = paths(cfg, name)
    sig = getattr(signal, svc.get("stop_signal", "SIGTERM"))
    log(f"{name}: stopping (pid {pid})")
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            break
        time.sleep(0.3)
    else:
        log(f"{name}: still running after {STOP_TIMEOUT_S}s, killing")
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    pidfile.unlink(missing_ok=True)


def needed_installs(services: list[dict]) -> set[str]:
    parts = {"deno"}
    names = {svc["name"] for svc in services}
    if "postgres" in names:
        parts.add("postgres")
    if "kafka" in names:
        parts |= {"java", "kafka"}
    if any(n.startswith("airflow") for n in names):
        parts.add("airflow")
    parts.add("dbt")
    return parts


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------


def cmd_up(cfg: dict[str, str], only: list[str]) -> None:
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


def cmd_down(cfg: dict[str, str]) -> None:
    for svc in reversed(load_manifest_all(cfg)):
        if svc["kind"] == "daemon":
            stop_daemon(svc, cfg)
    log(f"instance {cfg['STACK_INSTANCE']} is down (data kept in {cfg['STATE_DIR']})")


def load_manifest_all(cfg: dict[str, str]) -> list[dict]:
    """Every service of the manifest, whatever the profile: `down` stops all we started."""
    return json.loads(MANIFEST.read_text())["services"]


def cmd_status(cfg: dict[str, str]) -> int:
    bad = 0
    print(f"instance {cfg['STACK_INSTANCE']}  (state: {cfg['STATE_DIR']})")
    for svc in load_manifest(cfg):
        if svc["kind"] != "daemon":
            continue
        pid = running_pid(cfg, svc["name"])
        port = cfg.get(svc.get("port") or "", "")
        if pid is None:
            state = "stopped"
            bad += 1
        elif healthy(svc, cfg):
            state = "healthy"
        else:
            state = "UNHEALTHY"
            bad += 1
        print(f"  {svc['name']:<20} {state:<10} pid={pid or '-':<8} port={port or '-'}")
    status_script = STACK / "status_extra.sh"
    if status_script.exists():
        sys.stdout.flush()  # the service table first, then the pipeline section
        subprocess.run(["bash", str(status_script)], env=process_env(cfg), cwd=ROOT, check=False)
    return 1 if bad else 0


def cmd_logs(cfg: dict[str, str], names: list[str], lines: int) -> None:
    logs = Path(cfg["STATE_DIR"]) / "logs"
    targets = [logs / f"{n}.log" for n in names] if names else sorted(logs.glob("*.log"))
    for logfile in targets:
        print(f"==> {logfile} <==")
        print(log_tail(logfile, lines))


def cmd_relock(cfg: dict[str, str]) -> None:
    uv = uv_bin(cfg)
    for name in ("dbt", "airflow"):
        source = STACK / "python" / f"{name}.in"
        log(f"relocking {source.relative_to(ROOT)}")
        run(
            [
                uv,
                "pip",
                "compile",
                "-q",
                "--python-version",
                cfg["PYTHON_VERSION"],
                str(source),
                "-o",
                str(STACK / "python" / f"{name}.lock.txt"),
            ],
            quiet=False,
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="stackctl", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--instance",
        default=os.environ.get("STACK_INSTANCE", "dev"),
        choices=["dev", *sorted(p.stem for p in (STACK / "instances").glob("*.env"))],
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_install = sub.add_parser("install", help="install every tool the stack needs")
    p_install.add_argument("parts", nargs="*")
    p_up = sub.add_parser("up", help="install what is missing and start the services")
    p_up.add_argument("services", nargs="*")
    sub.add_parser("down", help="stop the services this instance started; data is kept")
    sub.add_parser("status", help="health of every service")
    p_logs = sub.add_parser("logs", help="tail the service logs")
    p_logs.add_argument("services", nargs="*")
    p_logs.add_argument("-n", type=int, default=40)
    sub.add_parser("relock", help="re-resolve stack/python/*.lock.txt from the .in files")
    sub.add_parser("env", help="print the instance environment as shell exports")
    p_exec = sub.add_parser("exec", help="run a command with the instance environment")
    p_exec.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cfg = load_config(args.instance)
    try:
        if args.command == "install":
            install(cfg, set(args.parts) or None)
        elif args.command == "up":
            cmd_up(cfg, args.services)
        elif args.command == "down":
            cmd_down(cfg)
        elif args.command == "status":
            return cmd_status(cfg)
        elif args.command == "logs":
            cmd_logs(cfg, args.services, args.n)
        elif args.command == "relock":
            cmd_relock(cfg)
        elif args.command == "env":
            env = process_env(cfg)
            for key in sorted(set(cfg) | {"PATH"}):
                print(f"export {key}={shlex.quote(env[key])}")
        elif args.command == "exec":
            cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
            if not cmd:
                raise StackError("exec needs a command")
            os.chdir(ROOT)
            os.execvpe(cmd[0], cmd, process_env(cfg))
    except StackError as error:
        print(f"[stack] ERROR: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
