"""Shared set-up of the DAG tests: a private Airflow home and metadata database, warehouse access.

Run with Airflow's virtualenv (`$AIRFLOW_VENV/bin/python -m pytest tests/dags`) and the stack's
environment (`python3 -m stack.stackctl exec -- ...`, or `make test`, which gives the suite a
fresh warehouse database in PGDATABASE). No Airflow daemon is needed: the integration tests use
`airflow dags test`, which runs the tasks in-process against a metadata database of their own,
`<PGDATABASE>_airflow`, created fresh for the session in the same PostgreSQL.

Airflow reads its configuration when first imported, so the environment is set here, at conftest
import time, before any test module imports airflow.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
AIRFLOW_CLI = str(Path(sys.executable).parent / "airflow")

WAREHOUSE_DB = os.environ.get("PGDATABASE") or os.environ.get("WAREHOUSE_DB") or "warehouse"
META_DB = re.sub(r"[^a-z0-9_]", "_", f"{WAREHOUSE_DB}_airflow".lower())
PG = {
    "host": os.environ.get("PGHOST", "127.0.0.1"),
    "port": os.environ.get("PGPORT", "5432"),
    "user": os.environ.get("POSTGRES_USER", "postgres"),
    "password": os.environ.get("POSTGRES_PASSWORD", "postgres"),
}

AIRFLOW_HOME = tempfile.mkdtemp(prefix="webshop-dags-test-")
os.environ.update(
    {
        "AIRFLOW_HOME": AIRFLOW_HOME,
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": (
            f"postgresql+psycopg2://{PG['user']}:{PG['password']}@{PG['host']}:{PG['port']}/{META_DB}"
        ),
        "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        "AIRFLOW__CORE__FERNET_KEY": "",
        "AIRFLOW__API_AUTH__JWT_SECRET": "webshop-dags-test-jwt-secret",
        "AIRFLOW__API__SECRET_KEY": "webshop-dags-test-secret-key",
        "DBT_RUNS_DIR": f"{AIRFLOW_HOME}/dbt-runs",
        "PROJECT_DIR": str(ROOT),
        "PGDATABASE": WAREHOUSE_DB,
        "WAREHOUSE_DB": WAREHOUSE_DB,
        # No alert webhook unless a test sets one.
        "ALERT_WEBHOOK_URL": "",
    }
)
# The DAG processor puts dags/ on sys.path; the tests import the helper package the same way.
sys.path.insert(0, str(DAGS))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)


def run_airflow(*args: str, timeout: int = 600, check: bool = True) -> subprocess.CompletedProcess:
    """Runs the airflow CLI with the test's environment; on failure the output is in the error."""
    try:
        result = subprocess.run(
            [AIRFLOW_CLI, *args],
            env=os.environ.copy(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        # A failing task waits out its retry back-off: show what it printed so far.
        output = _text(error.stdout) + _text(error.stderr)
        raise AssertionError(
            f"airflow {' '.join(args)} still running after {timeout}s:\n{output[-6000:]}"
        ) from None
    if check and result.returncode != 0:
        tail = (result.stdout + result.stderr)[-6000:]
        raise AssertionError(f"airflow {' '.join(args)} exited {result.returncode}:\n{tail}")
    return result


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value or ""


def connect(database: str, user: str | None = None, password: str | None = None):
    import psycopg2  # Airflow's virtualenv ships it (the postgres provider needs it)

    conn = psycopg2.connect(
        host=PG["host"],
        port=PG["port"],
        dbname=database,
        user=user or PG["user"],
        password=password or PG["password"],
    )
    conn.autocommit = True
    return conn


@pytest.fixture(scope="session")
def dagbag():
    """The DAG files parsed the way the DAG processor parses them (no database needed)."""
    from airflow.dag_processing.dagbag import BundleDagBag  # after the environment above

    return BundleDagBag(dag_folder=str(DAGS), bundle_path=DAGS, bundle_name="dags-folder")


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[str]:
    """A fresh, migrated Airflow metadata database with the `dbt` pool; dropped afterwards."""
    admin = connect("postgres")
    with admin.cursor() as cur:
        cur.execute(f'drop database if exists "{META_DB}" with (force)')
        cur.execute(f'create database "{META_DB}"')
    run_airflow("db", "migrate")
    run_airflow("pools", "set", "dbt", "1", "dbt invocations: one at a time")
    yield META_DB
    with admin.cursor() as cur:
        cur.execute(f'drop database if exists "{META_DB}" with (force)')
    admin.close()


@pytest.fixture(scope="session")
def warehouse():
    """A superuser connection to the suite's warehouse database (autocommit)."""
    conn = connect(WAREHOUSE_DB)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def metadata(airflow_db: str):
    """A connection to the test's Airflow metadata database (autocommit)."""
    conn = connect(airflow_db)
    yield conn
    conn.close()
