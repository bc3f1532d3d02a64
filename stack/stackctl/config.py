"""Configuration: the layered settings of an instance and the services manifest.

It reads three things and nothing else:
  versions.env          the one source of versions (PostgreSQL, Kafka, Deno, Python, dbt, Airflow)
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
            "PGDATABASE": cfg["WAREHOUSE_DB"],
            "PGUSER": cfg["POSTGRES_USER"],
            "PGPASSWORD": cfg["POSTGRES_PASSWORD"],
            "KAFKA_BROKERS": f"127.0.0.1:{cfg['KAFKA_PORT']}",
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


def load_manifest_all(manifest: Path = MANIFEST) -> list[dict]:
    """Every service of the manifest, whatever the profile: `down` stops all we started."""
    return json.loads(manifest.read_text())["services"]


def load_manifest(cfg: dict[str, str], manifest: Path = MANIFEST) -> list[dict]:
    """The services the instance runs: its profile's, minus those switched off by a setting."""
    chosen = []
    for svc in load_manifest_all(manifest):
        if cfg["STACK_PROFILE"] not in svc.get("profiles", ["dev", "test"]):
            continue
        enabled_by = svc.get("enabled_by")
        if enabled_by and cfg.get(enabled_by, "0") in ("", "0", "false"):
            continue
        chosen.append(svc)
    return chosen
