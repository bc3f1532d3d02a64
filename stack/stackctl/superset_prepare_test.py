"""stack/superset/prepare.py's logic that needs no Superset: the bundle it reads, where the
warehouse connection points, and the reason it reports for a failed import."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from .config import STACK

_spec = importlib.util.spec_from_file_location(
    "superset_prepare", STACK / "superset" / "prepare.py"
)
prepare = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(prepare)

FILE_URI = "postgresql+psycopg2://analyst:XXXXXXXXXX@127.0.0.1:5432/warehouse"


def test_the_warehouse_uri_points_at_this_deployment_and_keeps_the_mask() -> None:
    uri = prepare.warehouse_uri(FILE_URI, "postgres", "35432", "demo_wh")
    assert uri == "postgresql+psycopg2://analyst:XXXXXXXXXX@postgres:35432/demo_wh"


def test_a_connection_as_another_role_is_refused() -> None:
    with pytest.raises(SystemExit, match="logs in as 'transformer', expected 'analyst'"):
        prepare.warehouse_uri(FILE_URI.replace("analyst", "transformer"), "h", "1", "w")


def test_the_bundle_is_read_by_relative_path_with_the_database_rewritten(tmp_path: Path) -> None:
    (tmp_path / "databases").mkdir()
    (tmp_path / "charts").mkdir()
    (tmp_path / "metadata.yaml").write_text("version: 1.0.0\ntype: assets\n")
    (tmp_path / "databases" / "warehouse.yaml").write_text(
        f"database_name: warehouse\nsqlalchemy_uri: {FILE_URI}\n"
    )
    (tmp_path / "charts" / "trend.yaml").write_text("slice_name: Trend\n")
    contents = prepare.read_bundle(tmp_path, "127.0.0.1", "25432", "bench")
    assert sorted(contents) == ["charts/trend.yaml", "databases/warehouse.yaml", "metadata.yaml"]
    assert contents["charts/trend.yaml"] == "slice_name: Trend\n"
    assert "@127.0.0.1:25432/bench" in contents["databases/warehouse.yaml"]


@pytest.mark.parametrize("make", [False, True])
def test_a_missing_or_empty_bundle_fails_naming_the_folder(tmp_path: Path, make: bool) -> None:
    folder = tmp_path / "dashboards"
    if make:
        folder.mkdir()
    with pytest.raises(SystemExit, match=f"no YAML file in {folder}"):
        prepare.read_bundle(folder, "127.0.0.1", "5432", "warehouse")


class Invalid(Exception):
    """Stands in for Superset's CommandInvalidError: validation messages by file."""

    def normalized_messages(self) -> dict:
        return {"charts/trend.yaml": {"viz_type": ["Missing data for required field."]}}


def wrapped(cause: Exception) -> Exception:
    """`cause` wrapped as Superset's transaction decorator does (raise ... from cause)."""
    try:
        try:
            raise cause
        except Exception as inner:
            raise RuntimeError("Import failed for an unknown reason") from inner
    except RuntimeError as outer:
        return outer


def test_an_import_failure_reports_the_validation_messages_by_file(tmp_path: Path) -> None:
    reason = prepare.import_failure(wrapped(Invalid("Error importing assets")), tmp_path)
    assert reason == (
        f"  {tmp_path}/charts/trend.yaml: {{'viz_type': ['Missing data for required field.']}}"
    )


def test_an_import_failure_without_messages_reports_the_root_cause(tmp_path: Path) -> None:
    reason = prepare.import_failure(wrapped(KeyError("chartId")), tmp_path)
    assert reason == "  KeyError: 'chartId'"
