"""Installing is idempotent: a marker skips a tool, a missing one installs it; no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import install as installer


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every command the installer runs, recorded instead of run; the directory a `venv` or
    `mvn` run would create is created, as the real tool does."""
    seen: list[list[str]] = []

    def record(cmd: list[str], **_: object) -> None:
        seen.append(cmd)
        if "venv" in cmd[:3]:
            Path(cmd[-1]).mkdir(parents=True, exist_ok=True)
        for arg in cmd:
            if arg.startswith("-DoutputDirectory="):
                Path(arg.split("=", 1)[1]).mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr(installer, "run", record)
    return seen


def test_kafka_installs_once_then_its_marker_skips_it(
    cfg: dict[str, str], commands: list[list[str]]
) -> None:
    installer.install_kafka(cfg)
    assert [c[0] for c in commands] == ["mvn"]
    assert f"-Dkafka.version={cfg['KAFKA_VERSION']}" in commands[0]
    assert f"-DoutputDirectory={cfg['KAFKA_LIBS']}" in commands[0]
    assert (Path(cfg["KAFKA_LIBS"]).parent / ".installed").read_text() == "4.1.0\n"
    installer.install_kafka(cfg)
    assert len(commands) == 1


def test_a_virtualenv_is_synced_from_its_lock_then_skipped(
    cfg: dict[str, str], commands: list[list[str]]
) -> None:
    installer.install_venv(cfg, "dbt")
    synced = [c for c in commands if c[1:3] == ["pip", "sync"]]
    assert len(synced) == 1 and synced[0][-1].endswith("stack/python/dbt.lock.txt")
    assert (Path(cfg["DBT_VENV"]) / ".installed").exists()
    before = len(commands)
    installer.install_venv(cfg, "dbt")
    assert len(commands) == before


def test_installed_tools_run_nothing_but_the_deno_dependency_check(
    cfg: dict[str, str], commands: list[list[str]]
) -> None:
    for marker in (
        Path(cfg["DENO_BIN"]),
        Path(cfg["KAFKA_LIBS"]).parent / ".installed",
        Path(cfg["DBT_VENV"]) / ".installed",
        Path(cfg["AIRFLOW_VENV"]) / ".installed",
    ):
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    installer.install(cfg, {"deno", "kafka", "dbt", "airflow"})
    assert commands == [[cfg["DENO_BIN"], "install", "--quiet"]]


def test_install_runs_only_the_parts_asked_for(
    cfg: dict[str, str], commands: list[list[str]]
) -> None:
    installer.install(cfg, {"kafka"})
    assert [c[0] for c in commands] == ["mvn"]
    assert not Path(cfg["DBT_VENV"]).exists()


def test_services_decide_the_parts() -> None:
    assert installer.needed_installs([{"name": "fakestore"}]) == {"deno", "dbt"}
    assert installer.needed_installs(
        [{"name": "postgres"}, {"name": "kafka"}, {"name": "airflow-scheduler"}]
    ) == {"deno", "dbt", "postgres", "java", "kafka", "airflow"}
    assert installer.needed_installs([{"name": "consumer", "supervised": True}]) == {
        "deno",
        "dbt",
        "supervisor",
    }


def test_apt_refuses_without_root_naming_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(installer.os, "geteuid", lambda: 1000)
    with pytest.raises(installer.StackError, match="Missing maven: install them"):
        installer.apt_install("maven")
