"""Which services `up` starts: the named ones or the instance's own, minus `--skip`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .proc import StackError
from .supervise import select_services

SERVICES = [
    {"name": "postgres", "kind": "daemon", "profiles": ["dev", "test"]},
    {"name": "airflow-apiserver", "kind": "daemon", "profiles": ["dev"]},
    {"name": "superset-prepare", "kind": "job", "profiles": ["dev"]},
    {"name": "superset", "kind": "daemon", "profiles": ["dev"]},
]


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "services.json"
    path.write_text(json.dumps({"services": SERVICES}))
    return path


def names(services: list[dict]) -> list[str]:
    return [svc["name"] for svc in services]


def settings(tmp_path: Path, profile: str) -> dict[str, str]:
    return {"STACK_INSTANCE": "pytest", "STACK_PROFILE": profile, "STATE_DIR": str(tmp_path)}


def test_skip_leaves_the_named_services_for_later_and_keeps_the_order(
    manifest: Path, tmp_path: Path
) -> None:
    cfg = settings(tmp_path, "dev")
    chosen = select_services(cfg, [], ["superset-prepare", "superset"], manifest)
    assert names(chosen) == ["postgres", "airflow-apiserver"]


def test_without_skip_the_profile_decides(manifest: Path, tmp_path: Path) -> None:
    assert names(select_services(settings(tmp_path, "dev"), [], [], manifest)) == names(SERVICES)
    assert names(select_services(settings(tmp_path, "test"), [], [], manifest)) == ["postgres"]


def test_named_services_start_in_manifest_order_even_outside_the_profile(
    manifest: Path, tmp_path: Path
) -> None:
    chosen = select_services(
        settings(tmp_path, "test"), ["superset", "superset-prepare"], [], manifest
    )
    assert names(chosen) == ["superset-prepare", "superset"]


def test_an_unknown_skipped_service_is_named(manifest: Path, tmp_path: Path) -> None:
    with pytest.raises(StackError, match="Unknown service\\(s\\) for instance pytest: supset"):
        select_services(settings(tmp_path, "dev"), [], ["supset"], manifest)
