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


def test_superset_services_need_the_superset_virtualenv_not_the_browser() -> None:
    assert installer.needed_installs([{"name": "superset-prepare"}, {"name": "superset"}]) == {
        "deno",
        "dbt",
        "superset",
    }


def test_a_full_install_includes_superset_and_chromium(
    cfg: dict[str, str], commands: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    apt: list[tuple[str, ...]] = []
    monkeypatch.setattr(installer, "apt_install", lambda *packages: apt.append(packages))
    monkeypatch.setattr(installer.shutil, "which", lambda _name: None)
    for step in ("install_postgres", "install_deno", "install_kafka", "install_deno_deps"):
        monkeypatch.setattr(installer, step, lambda *_: None)
    cfg["SUPERVISOR_VENV"] = str(Path(cfg["STACK_CACHE_DIR"]) / "venv-supervisor")
    cfg["SUPERSET_VENV"] = str(Path(cfg["STACK_CACHE_DIR"]) / "venv-superset")
    installer.install(cfg)
    assert ("chromium",) in apt
    synced = [c[-1] for c in commands if c[1:3] == ["pip", "sync"]]
    assert synced[-1].endswith("stack/python/superset.lock.txt")


def test_relock_writes_paths_relative_to_stack_python(
    cfg: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[list[str], object]] = []
    monkeypatch.setattr(installer, "uv_bin", lambda _cfg: "uv")
    monkeypatch.setattr(installer, "run", lambda cmd, **kw: calls.append((cmd, kw.get("cwd"))))
    installer.relock(cfg | {"PYTHON_VERSION": "3.11"})
    assert [cmd[-3:] for cmd, _ in calls][-1] == ["superset.in", "-o", "superset.lock.txt"]
    assert {cwd for _, cwd in calls} == {installer.STACK / "python"}


def test_apt_refuses_without_root_naming_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(installer.os, "geteuid", lambda: 1000)
    with pytest.raises(installer.StackError, match="Missing maven: install them"):
        installer.apt_install("maven")
