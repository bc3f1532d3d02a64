"""Configuration: the layered settings of an instance and the services manifest.

It reads three things and nothing else:
  versions.env          the one source of versions (PostgreSQL, Kafka, Deno, Python, dbt, Airflow,
                        Superset)
  .env.example / .env   settings (ports, passwords, directories); .env overrides the defaults
  <state>/secrets.env   the instance's generated secrets (stackctl/secrets.py), between the two
  stack/services.json   the services manifest: name, command, port, health check, environment
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from .proc import StackError
from .secrets import secrets_file

ROOT = Path(__file__).resolve().parent.parent.parent
STACK = ROOT / "stack"
MANIFEST = STACK / "services.json"


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


def load_config(instance: str, root: Path = ROOT) -> dict[str, str]:
    """versions.env < .env.example < secrets.env < .env (dev only) < instances/<i>.env < env."""
    defaults = read_env_file(root / "versions.env") | read_env_file(root / ".env.example")
    chosen = read_env_file(root / ".env") if instance == "dev" else {}
    chosen |= read_env_file(root / "stack" / "instances" / f"{instance}.env")
    # The generated secrets sit in the state directory, which the layers above may move.
    state_root = os.environ.get("STACK_STATE_DIR") or chosen.get("STACK_STATE_DIR")
    state_root = state_root or defaults.get("STACK_STATE_DIR", "")
    generated = read_env_file(secrets_file(Path(state_root) / instance)) if state_root else {}
    cfg = defaults | generated | chosen
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
            "PROJECT_DIR": str(root),
            "STATE_DIR": str(state),
            "PG_BIN": str(pg_bin),
            "DENO_HOME": str(cache / f"deno-{cfg['DENO_VERSION']}"),
            "DENO_DIR": str(cache / "deno-dir"),
            "DENO_NO_UPDATE_CHECK": "1",
            "KAFKA_LIBS": str(cache / f"kafka-{cfg['KAFKA_VERSION']}" / "libs"),
            "DBT_VENV": str(cache / f"venv-dbt-{lock_digest('dbt', root)}"),
            "AIRFLOW_VENV": str(cache / f"venv-airflow-{lock_digest('airflow', root)}"),
            "SUPERVISOR_VENV": str(cache / f"venv-supervisor-{lock_digest('supervisor', root)}"),
            "SUPERSET_VENV": str(cache / f"venv-superset-{lock_digest('superset', root)}"),
            "PGDATABASE": cfg["WAREHOUSE_DB"],
            "PGUSER": cfg["POSTGRES_USER"],
            "PGPASSWORD": cfg["POSTGRES_PASSWORD"],
            "KAFKA_BROKERS": kafka_brokers(cfg),
            "KAFKA_CONTROLLERS": kafka_brokers(cfg, controller=True),
            "FAKESTORE_BASE_URL": cfg.get("FAKESTORE_BASE_URL", "").replace(
                "127.0.0.1:3000", f"127.0.0.1:{cfg['FAKESTORE_PORT']}"
            ),
            # dbt: project and profiles at the repository root; no telemetry, no version check.
            "DBT_PROFILES_DIR": str(root),
            "DBT_PROJECT_DIR": str(root),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_VERSION_CHECK": "false",
            "DO_NOT_TRACK": "1",
            "NO_COLOR": "1",
        }
    )
    cfg["DENO_BIN"] = str(Path(cfg["DENO_HOME"]) / "bin" / "deno")
    replica_setting(cfg, "CONSUMER_REPLICAS")
    cfg["DBT_BIN"] = str(Path(cfg["DBT_VENV"]) / "bin" / "dbt")
    cfg["AIRFLOW_BIN"] = str(Path(cfg["AIRFLOW_VENV"]) / "bin" / "airflow")
    return cfg


def lock_digest(name: str, root: Path = ROOT) -> str:
    """Short hash of a virtualenv's lock file: a changed lock gets a fresh virtualenv."""
    lock = root / "stack" / "python" / f"{name}.lock.txt"
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


# The PostgreSQL superuser's settings: only services marked "superuser" in the manifest (the
# one-shot migrate job) get them; workers, Airflow and its tasks connect as their own roles.
SUPERUSER_KEYS = ("POSTGRES_USER", "POSTGRES_PASSWORD", "PGUSER", "PGPASSWORD")


def without_superuser(env: dict[str, str], svc: dict) -> dict[str, str]:
    """The environment without the superuser's credentials, unless its manifest grants them."""
    if svc.get("superuser"):
        return env
    return {k: v for k, v in env.items() if k not in SUPERUSER_KEYS}


def expand(value: str, cfg: dict[str, str]) -> str:
    """Replaces every ${KEY} of a manifest value; an unknown key is a StackError."""

    def repl(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in cfg:
            raise StackError(f"Manifest uses ${{{key}}}, which no configuration file defines")
        return cfg[key]

    return re.sub(r"\$\{([A-Z0-9_]+)\}", repl, value)


# A manifest service with "replicas": "<SETTING>" runs that many copies: copy 1 keeps the
# service's name, copy i is "<name>-i". Each copy's ${REPLICA} (i), ${REPLICA_NAME} and
# ${REPLICA_PORT} (the service's "port" setting + port_stride * (i - 1)) are filled in here.
REPLICA_KEYS = ("REPLICA", "REPLICA_NAME", "REPLICA_PORT")
# Kafka node i listens on KAFKA_PORT + 2 * (i - 1) and KAFKA_CONTROLLER_PORT + 2 * (i - 1).
KAFKA_PORT_STRIDE = 2


def replica_name(base: str, index: int) -> str:
    """The name of copy `index` (from 1) of a replicated service: node 1 keeps the plain name."""
    return base if index == 1 else f"{base}-{index}"


def replica_setting(cfg: dict[str, str], key: str) -> int:
    """A replica count setting (default 1) as a number; anything but a whole number >= 1 fails."""
    value = cfg.get(key, "") or "1"
    if not value.isdigit() or int(value) < 1:
        raise StackError(f"Reading {key}: {value!r} is not a whole number of 1 or more")
    return int(value)


def kafka_nodes(cfg: dict[str, str]) -> int:
    """KAFKA_NODES: 1, or an odd number >= 3 (a KRaft quorum of 2 survives no failure)."""
    nodes = replica_setting(cfg, "KAFKA_NODES")
    if nodes != 1 and (nodes < 3 or nodes % 2 == 0):
        raise StackError(
            f"Reading KAFKA_NODES: {nodes} nodes is not a usable KRaft quorum; "
            "use 1 or an odd number of 3 or more (3 survives one node down)"
        )
    return nodes


def kafka_node_ports(cfg: dict[str, str], node: int) -> tuple[int, int]:
    """Node `node`'s (broker, controller) ports."""
    offset = KAFKA_PORT_STRIDE * (node - 1)
    return int(cfg["KAFKA_PORT"]) + offset, int(cfg.get("KAFKA_CONTROLLER_PORT", "0")) + offset


def kafka_brokers(cfg: dict[str, str], controller: bool = False) -> str:
    """The bootstrap list: every node's broker (or controller) listener, node 1 first."""
    ports = (kafka_node_ports(cfg, node)[controller] for node in range(1, kafka_nodes(cfg) + 1))
    return ",".join(f"127.0.0.1:{port}" for port in ports)


def fill_replica(value: str, values: dict[str, str]) -> str:
    """Fills the ${REPLICA...} keys of one manifest value; other ${KEY}s stay for expand()."""
    return re.sub(
        r"\$\{(REPLICA(?:_NAME|_PORT)?)\}",
        lambda m: values[m.group(1)] if m.group(1) in values else m.group(0),
        value,
    )


def replica_copies(svc: dict, count: int, cfg: dict[str, str]) -> list[dict]:
    """The `count` copies of a replicated service (the service itself when not replicated)."""
    if not svc.get("replicas"):
        return [svc]
    copies = []
    for index in range(1, count + 1):
        name = replica_name(svc["name"], index)
        offset = int(svc.get("port_stride", 0)) * (index - 1)
        values = {"REPLICA": str(index), "REPLICA_NAME": name}
        if svc.get("port"):
            values["REPLICA_PORT"] = str(int(cfg[svc["port"]]) + offset)
        copy = dict(svc, name=name, replica=index, replica_of=svc["name"], port_offset=offset)
        for key in ("command", "health"):
            if key in svc:
                copy[key] = [fill_replica(arg, values) for arg in svc[key]]
        copy["env"] = {k: fill_replica(v, values) for k, v in svc.get("env", {}).items()}
        copies.append(copy)
    return copies


def configured_replicas(svc: dict, cfg: dict[str, str]) -> int:
    """How many copies of the service the settings ask for (KAFKA_NODES is checked as a quorum)."""
    setting = svc.get("replicas")
    if not setting:
        return 1
    return kafka_nodes(cfg) if setting == "KAFKA_NODES" else replica_setting(cfg, setting)


def started_replicas(svc: dict, cfg: dict[str, str]) -> int:
    """The highest copy of the service this instance has a pid file or supervisor spec of."""
    if not svc.get("replicas"):
        return 1
    state = Path(cfg.get("STATE_DIR", "/nonexistent"))
    pattern = re.compile(rf"^{re.escape(svc['name'])}-(\d+)\.(?:pid|json)$")
    found = [1]
    for folder in (state / "run", state / "supervisor"):
        if folder.is_dir():
            found += [int(m.group(1)) for f in folder.iterdir() if (m := pattern.match(f.name))]
    return max(found)


def service_port(svc: dict, cfg: dict[str, str]) -> str:
    """The port a daemon listens on ("" when none): its setting plus a replica's offset."""
    port = cfg.get(svc.get("port") or "", "")
    return str(int(port) + svc.get("port_offset", 0)) if port else ""


def load_manifest_all(cfg: dict[str, str], manifest: Path = MANIFEST) -> list[dict]:
    """Every service, whatever the profile, with every copy configured or still started: `down`
    stops all we started, even after a replica setting went down."""
    services = json.loads(manifest.read_text())["services"]
    everything = []
    for svc in services:
        count = max(configured_replicas(svc, cfg), started_replicas(svc, cfg))
        everything += replica_copies(svc, count, cfg)
    return everything


def load_manifest(cfg: dict[str, str], manifest: Path = MANIFEST) -> list[dict]:
    """The services the instance runs: its profile's, minus those switched off by a setting,
    each replicated service as many times as its setting says."""
    chosen = []
    for svc in json.loads(manifest.read_text())["services"]:
        if cfg["STACK_PROFILE"] not in svc.get("profiles", ["dev", "test"]):
            continue
        enabled_by = svc.get("enabled_by")
        if enabled_by and cfg.get(enabled_by, "0") in ("", "0", "false"):
            continue
        chosen += replica_copies(svc, configured_replicas(svc, cfg), cfg)
    return chosen
