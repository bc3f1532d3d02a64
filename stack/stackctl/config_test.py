"""Settings layering, env-file parsing, manifest expansion and profile filtering."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .config import (
    expand,
    load_config,
    load_manifest,
    load_manifest_all,
    lock_digest,
    process_env,
    read_env_file,
    without_superuser,
)
from .proc import StackError

BASE = """\
STACK_CACHE_DIR=/cache
STACK_STATE_DIR=/state
POSTGRES_MAJOR=17
DENO_VERSION=2.0.0
KAFKA_VERSION=4.1.0
WAREHOUSE_DB=webshop
POSTGRES_USER=webshop
POSTGRES_PASSWORD=secret
KAFKA_PORT=9092
FAKESTORE_PORT=3000
FAKESTORE_BASE_URL=http://127.0.0.1:3000
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository skeleton with every settings layer, and a process env that sets none."""
    write(tmp_path / "versions.env", "DENO_VERSION=2.0.0\nPOSTGRES_MAJOR=17\n")
    write(tmp_path / ".env.example", BASE + "PGPORT=5432\nLAYER=example\n")
    write(tmp_path / ".env", "PGPORT=6000\nLAYER=dotenv\n")
    write(tmp_path / "stack" / "instances" / "test.env", "PGPORT=15432\nFAKESTORE_PORT=13000\n")
    for key in read_env_file(tmp_path / ".env.example") | {"STACK_PROFILE": ""}:
        monkeypatch.delenv(key, raising=False)
    return tmp_path


def test_env_file_skips_comments_and_strips_outer_quotes(tmp_path: Path) -> None:
    path = tmp_path / "x.env"
    path.write_text(
        "# comment\n\nA=1\nB = 'two words'\nC=\"x=y\"\nD='unbalanced\"\nnot a setting\nE=\n"
    )
    assert read_env_file(path) == {
        "A": "1",
        "B": "two words",
        "C": "x=y",
        "D": "'unbalanced\"",
        "E": "",
    }


def test_missing_env_file_is_empty(tmp_path: Path) -> None:
    assert read_env_file(tmp_path / "absent.env") == {}


def test_dev_reads_dotenv_over_the_example(root: Path) -> None:
    cfg = load_config("dev", root)
    assert (cfg["PGPORT"], cfg["LAYER"], cfg["STACK_PROFILE"]) == ("6000", "dotenv", "dev")
    assert cfg["STATE_DIR"] == "/state/dev"


def test_an_instance_ignores_dotenv_and_applies_its_own_file(root: Path) -> None:
    cfg = load_config("test", root)
    assert (cfg["PGPORT"], cfg["LAYER"], cfg["STACK_PROFILE"]) == ("15432", "example", "test")
    assert cfg["STATE_DIR"] == "/state/test"
    # the Fake Store URL follows the instance's port
    assert cfg["FAKESTORE_BASE_URL"] == "http://127.0.0.1:13000"


def test_process_env_wins_for_known_keys_only(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPORT", "7777")
    monkeypatch.setenv("LAYER", "")  # empty values do not override
    monkeypatch.setenv("UNKNOWN_TO_STACK", "1")
    cfg = load_config("test", root)
    assert (cfg["PGPORT"], cfg["LAYER"]) == ("7777", "example")
    assert "UNKNOWN_TO_STACK" not in cfg


def test_tool_paths_derive_from_versions_and_lock_digest(root: Path) -> None:
    write(root / "stack" / "python" / "dbt.lock.txt", "dbt-core==1.0\n")
    cfg = load_config("test", root)
    assert cfg["DENO_BIN"] == "/cache/deno-2.0.0/bin/deno"
    assert cfg["DBT_VENV"] == f"/cache/venv-dbt-{lock_digest('dbt', root)}"
    assert cfg["AIRFLOW_VENV"] == "/cache/venv-airflow-nolock"
    assert cfg["PG_BIN"] == "/usr/lib/postgresql/17/bin"


def test_lock_digest_changes_with_the_lock(root: Path) -> None:
    lock = root / "stack" / "python" / "dbt.lock.txt"
    write(lock, "a==1\n")
    first = lock_digest("dbt", root)
    write(lock, "a==2\n")
    assert len(first) == 12 and lock_digest("dbt", root) != first


def test_process_env_puts_the_pinned_tools_first(cfg: dict[str, str]) -> None:
    env = process_env(cfg)
    assert env["PATH"].split(os.pathsep)[:2] == [
        f"{cfg['DENO_HOME']}/bin",
        f"{cfg['DBT_VENV']}/bin",
    ]
    assert env["STATE_DIR"] == cfg["STATE_DIR"]


def test_expand_replaces_known_keys_and_names_an_unknown_one() -> None:
    assert expand("${A}/x/${B}", {"A": "1", "B": "2"}) == "1/x/2"
    with pytest.raises(StackError, match=r"\$\{MISSING\}"):
        expand("${MISSING}", {})


def test_manifest_filters_by_profile_and_switch(tmp_path: Path) -> None:
    manifest = tmp_path / "services.json"
    manifest.write_text(
        json.dumps(
            {
                "services": [
                    {"name": "always"},
                    {"name": "dev-only", "profiles": ["dev"]},
                    {"name": "switched", "enabled_by": "WITH_SWITCHED"},
                ]
            }
        )
    )

    def names(cfg: dict[str, str]) -> list[str]:
        return [s["name"] for s in load_manifest(cfg, manifest)]

    assert names({"STACK_PROFILE": "test"}) == ["always"]
    assert names({"STACK_PROFILE": "dev", "WITH_SWITCHED": "false"}) == ["always", "dev-only"]
    assert names({"STACK_PROFILE": "test", "WITH_SWITCHED": "1"}) == ["always", "switched"]
    assert len(load_manifest_all({"STACK_PROFILE": "test"}, manifest)) == 3


def test_only_a_superuser_service_gets_the_superuser_credentials(root: Path) -> None:
    env = process_env(load_config("test", root))
    assert env["PGPASSWORD"] == "secret"
    worker = without_superuser(env, {"name": "consumer"})
    assert not {"POSTGRES_USER", "POSTGRES_PASSWORD", "PGUSER", "PGPASSWORD"} & set(worker)
    assert "secret" not in worker.values()
    assert without_superuser(env, {"name": "migrate", "superuser": True})["PGPASSWORD"] == "secret"
