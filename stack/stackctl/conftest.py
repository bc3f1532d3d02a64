"""Shared fixtures of the stack manager's tests: a throwaway instance configuration."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def cfg(tmp_path: Path) -> dict[str, str]:
    """A minimal instance configuration whose state, cache and tools live under tmp_path."""
    return {
        "STACK_INSTANCE": "pytest",
        "STATE_DIR": str(tmp_path / "state"),
        "STACK_CACHE_DIR": str(tmp_path / "cache"),
        "DENO_HOME": str(tmp_path / "deno"),
        "DENO_BIN": str(tmp_path / "deno" / "bin" / "deno"),
        "DBT_VENV": str(tmp_path / "venv-dbt"),
        "AIRFLOW_VENV": str(tmp_path / "venv-airflow"),
        "KAFKA_LIBS": str(tmp_path / "kafka" / "libs"),
        "KAFKA_VERSION": "4.1.0",
        "KAFKA_SCALA_VERSION": "2.13",
        "KAFKA_PORT": "19092",
        "KAFKA_CONTROLLER_PORT": "19093",
        "KAFKA_CLUSTER_ID": "cGl0ZXN0LWNsdXN0ZXI",
        "UV_VERSION": "0.0.0",
    }
