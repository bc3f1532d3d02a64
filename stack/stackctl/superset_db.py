"""Superset's metadata database, the superuser's side (services.json "prepare": "superset"):
the role SUPERSET_DB_USER and the database SUPERSET_DB it owns, created when missing, the role's
password synced on every start; and a pg_dump of that database before a new Superset version
upgrades it (the migrations of a major version are not reversible)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from .config import STACK
from .proc import StackError, log

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def backup_label(recorded: str | None, current: str, db_exists: bool) -> str | None:
    """The version to name a backup after before preparing `current`, or None when none is due:
    a database prepared by another version (or by an unknown one: no record) is dumped first."""
    if not db_exists or recorded == current:
        return None
    return recorded or "unknown"


def backup_path(backups: Path, label: str, now: float) -> Path:
    """Where the dump of the metadata database prepared by version `label` goes."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    return backups / f"superset-{label}-{stamp}.dump"


def read_recorded(path: Path) -> str | None:
    """The Superset version that last prepared the database, None when never recorded."""
    return (path.read_text().strip() or None) if path.exists() else None


def admin_env(cfg: dict[str, str]) -> dict[str, str]:
    """The environment of the superuser's client tools (psql, pg_dump)."""
    return dict(os.environ, PGPASSWORD=cfg["POSTGRES_PASSWORD"], PGCONNECT_TIMEOUT="10")


def client_args(cfg: dict[str, str], tool: str, database: str) -> list[str]:
    """A PostgreSQL client tool connected as the superuser to `database` on the instance."""
    return [
        f"{cfg['PG_BIN']}/{tool}",
        "-h",
        "127.0.0.1",
        "-p",
        cfg["PGPORT"],
        "-U",
        cfg["POSTGRES_USER"],
        "-d",
        database,
    ]


def psql(cfg: dict[str, str], database: str, args: list[str], script: str = "") -> str:
    """Runs psql as the superuser (stops on the first error); its output."""
    cmd = client_args(cfg, "psql", database) + ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", *args]
    result = subprocess.run(
        cmd, input=script, env=admin_env(cfg), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise StackError(f"Preparing Superset's database {database}: {result.stderr.strip()}")
    return result.stdout.strip()


def dump_database(cfg: dict[str, str], database: str, target: Path) -> None:
    """pg_dump -Fc of `database` into `target` (written under a temporary name first)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(target.parent, 0o700)
    partial = target.with_name(target.name + ".partial")
    cmd = client_args(cfg, "pg_dump", database) + ["-Fc", "-f", str(partial)]
    result = subprocess.run(cmd, env=admin_env(cfg), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise StackError(f"Backing up Superset's database {database}: {result.stderr.strip()}")
    partial.rename(target)


def prepare_superset(cfg: dict[str, str], _replica: int = 1) -> None:
    """Role and database for Superset (idempotent); a backup first when the version changed."""
    for key in ("SUPERSET_DB", "SUPERSET_DB_USER"):
        if not IDENTIFIER.match(cfg[key]):
            raise StackError(f"{key} must be a plain lowercase identifier, got {cfg[key]!r}")
    name, version = cfg["SUPERSET_DB"], cfg["SUPERSET_VERSION"]
    state = Path(cfg["STATE_DIR"]) / "superset"
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    version_file = state / "version"
    exists = psql(cfg, "postgres", ["-c", f"select 1 from pg_database where datname = '{name}'"])
    label = backup_label(read_recorded(version_file), version, exists == "1")
    if label is not None:
        target = backup_path(Path(cfg["STATE_DIR"]) / "backups", label, time.time())
        log(f"superset: backing up database {name} (prepared by Superset {label}) to {target}")
        dump_database(cfg, name, target)
    if exists != "1":
        log(f"superset: creating database {name}")
        psql(cfg, "postgres", ["-c", f'create database "{name}"'])
    # The role, its password (a rotated one applies) and the ownership of the database: the
    # same script as Airflow's metadata database; psql's :'var' quotes the values as literals.
    owner_sql = STACK / "postgres" / "metadata_owner.sql"
    psql(
        cfg,
        name,
        ["-v", f"role={cfg['SUPERSET_DB_USER']}", "-v", f"pw={cfg['SUPERSET_DB_PASSWORD']}"],
        "select set_config('webshop.owner_role', :'role', false),"
        " set_config('webshop.owner_password', :'pw', false) \\g /dev/null\n"
        f"\\i {owner_sql}\n",
    )
    version_file.write_text(version + "\n")
