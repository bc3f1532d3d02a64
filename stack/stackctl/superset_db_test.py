"""Superset's metadata database: when a backup is due, where it goes, and that a job's prepare
step runs before the job."""

from __future__ import annotations

import calendar
import sys
from pathlib import Path

import pytest

from . import supervise
from .superset_db import backup_label, backup_path, prepare_superset, read_recorded


def test_no_backup_for_a_database_that_does_not_exist_yet() -> None:
    assert backup_label(None, "6.1.0", db_exists=False) is None
    assert backup_label("6.0.0", "6.1.0", db_exists=False) is None


def test_no_backup_when_the_same_version_prepared_it() -> None:
    assert backup_label("6.1.0", "6.1.0", db_exists=True) is None


def test_a_version_change_backs_up_under_the_old_version() -> None:
    assert backup_label("6.0.0", "6.1.0", db_exists=True) == "6.0.0"
    assert backup_label("6.1.0", "5.0.0", db_exists=True) == "6.1.0"


def test_a_database_no_version_was_recorded_for_is_backed_up_as_unknown() -> None:
    assert backup_label(None, "6.1.0", db_exists=True) == "unknown"


def test_the_backup_is_named_after_the_old_version_and_the_utc_time(tmp_path: Path) -> None:
    now = calendar.timegm((2026, 11, 28, 3, 4, 5, 0, 0, 0))
    path = backup_path(tmp_path / "backups", "6.0.0", now)
    assert path == tmp_path / "backups" / "superset-6.0.0-20261128T030405Z.dump"


def test_the_recorded_version_is_read_trimmed_and_none_when_absent_or_empty(
    tmp_path: Path,
) -> None:
    version = tmp_path / "version"
    assert read_recorded(version) is None
    version.write_text("")
    assert read_recorded(version) is None
    version.write_text("6.0.0\n")
    assert read_recorded(version) == "6.0.0"


def test_a_database_name_that_is_not_a_plain_identifier_is_refused(
    cfg: dict[str, str],
) -> None:
    cfg |= {"SUPERSET_DB": 'superset"; drop', "SUPERSET_DB_USER": "superset"}
    with pytest.raises(supervise.StackError, match="SUPERSET_DB must be a plain lowercase"):
        prepare_superset(cfg)


def test_a_job_runs_its_prepare_step_first(
    cfg: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared: list[str] = []
    monkeypatch.setattr(supervise, "prepare_named", lambda name, _cfg: prepared.append(name))
    job = {
        "name": "probe",
        "kind": "job",
        "prepare": "superset",
        "command": [sys.executable, "-c", "print('ran')"],
        "env": {},
    }
    supervise.run_job(job, cfg)
    assert prepared == ["superset"]
    assert "ran" in (Path(cfg["STATE_DIR"]) / "logs" / "probe.log").read_text()
