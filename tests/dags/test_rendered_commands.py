"""Each DAG task's command, rendered by Airflow for a concrete run and then run for real.

The stand-ins check what reaches the programs: the extractor's own CLI and interval parser read
the extract task's arguments, the real dbt resolves each build's selector with the arguments the
task passes (`dbt ls` in place of `dbt build`: it parses the project, touches no database), and
the maintenance commands work on real files and a recording `airflow` stand-in.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from airflow.dag_processing.dagbag import BundleDagBag

from conftest import ROOT
from rendering import render_task, run_bash, stand_in
from webshop.commands import CREDENTIAL_VARIABLES

# A manual run triggered at 05:07 UTC on 20 November (what `airflow dags test` would start).
RUN_AFTER = datetime(2026, 11, 20, 5, 7, tzinfo=UTC)
DBT_TASKS = [
    ("webshop_batch_dag", "dbt_build"),
    ("webshop_batch_dag", "dbt_source_freshness"),
    ("webshop_stream_dag", "dbt_build"),
    ("webshop_quality_dag", "dbt_test"),
]

# Parses the arguments with the extractor's own CLI and interval code, prints what it got.
PARSE_EXTRACT_ARGS = """
import { parseCli } from "./workers/extract/cli.ts";
import { parseInterval } from "./workers/extract/interval.ts";
const args = parseCli(Deno.args);
const interval = parseInterval(args.start, args.end);
console.log(JSON.stringify({
  start: interval.start.toISOString(),
  end: interval.end.toISOString(),
  user: Deno.env.get("PGUSER"),
}));
"""


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DBT_RUNS_DIR for this test (the commands read it when they render and when they run)."""
    runs = tmp_path / "runs"
    monkeypatch.setenv("DBT_RUNS_DIR", str(runs))
    return runs


def _recording_dbt(tmp_path: Path, record: Path, *, lists: str | None) -> str:
    """A dbt stand-in that records its arguments; a `build` or `test` becomes the real `dbt ls`.

    `lists` is the resource type dbt ls prints (model, test); None lists nothing.
    """
    body = f'printf "%s\\0" "$@" > "{record}"\n'
    if lists:
        body += (
            '[ "$1" = build ] || [ "$1" = test ] || exit 0\n'
            "shift\n"
            f'exec "{os.environ["DBT_BIN"]}" --quiet ls --resource-type {lists}'
            + ' --output name "$@"\n'
        )
    return stand_in(tmp_path / "dbt", body)


def _recorded_args(record: Path) -> list[str]:
    return record.read_text().split("\0")[:-1]


def _flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_extract_hands_the_run_interval_to_the_extractor_cli(
    dagbag: BundleDagBag, tmp_path: Path
) -> None:
    rendered = render_task(dagbag.dags["webshop_batch_dag"], "extract", RUN_AFTER)
    deno = stand_in(
        tmp_path / "deno",
        '[ "$1 $2" = "task extract" ] || { echo "unexpected deno call: $*" >&2; exit 64; }\n'
        "shift 2\n"
        f'exec "{os.environ["DENO_BIN"]}" eval "$PARSE_EXTRACT_ARGS" "$@"\n',
    )
    result = run_bash(
        rendered.command,
        DENO_BIN=deno,
        LOADER_PASSWORD="s3cret",
        PARSE_EXTRACT_ARGS=PARSE_EXTRACT_ARGS,
    )
    assert result.returncode == 0, result.stderr
    parsed = json.loads(result.stdout)
    # The timetable's interval for this run: the last complete UTC day before it.
    assert (rendered.interval_start, rendered.interval_end) == (
        datetime(2026, 11, 19, tzinfo=UTC),
        datetime(2026, 11, 20, tzinfo=UTC),
    )
    assert datetime.fromisoformat(parsed["start"]) == rendered.interval_start
    assert datetime.fromisoformat(parsed["end"]) == rendered.interval_end
    assert parsed["user"] == "loader"


def test_extract_refuses_to_run_without_the_loader_password(
    dagbag: BundleDagBag, tmp_path: Path
) -> None:
    rendered = render_task(dagbag.dags["webshop_batch_dag"], "extract", RUN_AFTER)
    deno = stand_in(tmp_path / "deno", "echo started\n")
    result = run_bash("unset LOADER_PASSWORD\n" + rendered.command, DENO_BIN=deno)
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "LOADER_PASSWORD is not set" in result.stderr


# A distinct value per credential, so a leak names which one reached the job.
_CREDENTIALS = {name: f"value-of-{name.lower()}" for name in CREDENTIAL_VARIABLES}


@pytest.mark.parametrize(
    ("dag_id", "task_id", "program", "kept"),
    [
        ("webshop_batch_dag", "extract", "DENO_BIN", {"PGPASSWORD": "LOADER_PASSWORD"}),
        (
            "webshop_batch_dag",
            "dbt_build",
            "DBT_BIN",
            {"TRANSFORMER_PASSWORD": "TRANSFORMER_PASSWORD"},
        ),
        (
            "webshop_stream_dag",
            "dbt_build",
            "DBT_BIN",
            {"TRANSFORMER_PASSWORD": "TRANSFORMER_PASSWORD"},
        ),
        (
            "webshop_quality_dag",
            "dbt_test",
            "DBT_BIN",
            {"TRANSFORMER_PASSWORD": "TRANSFORMER_PASSWORD"},
        ),
    ],
)
def test_a_job_holds_only_the_credential_of_its_role(
    dagbag: BundleDagBag,
    tmp_path: Path,
    runs_dir: Path,
    dag_id: str,
    task_id: str,
    program: str,
    kept: dict[str, str],
) -> None:
    rendered = render_task(dagbag.dags[dag_id], task_id, RUN_AFTER)
    dump = tmp_path / "environ"
    job = stand_in(tmp_path / "job", f'env -0 > "{dump}"\n')
    result = run_bash(rendered.command, **{program: job}, **_CREDENTIALS)
    assert result.returncode == 0, result.stderr
    seen = dict(line.split("=", 1) for line in dump.read_text().split("\0") if "=" in line)
    held = {name for name in CREDENTIAL_VARIABLES if name in seen}
    assert held == set(kept), f"{task_id} holds {sorted(held)}"
    for name, source in kept.items():
        assert seen[name] == _CREDENTIALS[source]


def test_every_dbt_task_writes_to_a_folder_of_its_own_run(
    dagbag: BundleDagBag, tmp_path: Path, runs_dir: Path
) -> None:
    folders = set()
    for dag_id, task_id in DBT_TASKS:
        rendered = render_task(dagbag.dags[dag_id], task_id, RUN_AFTER)
        record = tmp_path / f"{dag_id}.{task_id}.args"
        dbt = _recording_dbt(tmp_path, record, lists=None)
        result = run_bash(rendered.command, DBT_BIN=dbt)
        assert result.returncode == 0, result.stderr
        args = _recorded_args(record)
        safe_run = re.sub(r"[^A-Za-z0-9._-]+", "_", rendered.run_id)
        run_dir = runs_dir / dag_id / safe_run / task_id
        assert _flag(args, "--target-path") == f"{run_dir}/target"
        assert _flag(args, "--log-path") == f"{run_dir}/logs"
        assert _flag(args, "--project-dir") == str(ROOT)
        assert (run_dir / "target").is_dir() and (run_dir / "logs").is_dir()
        folders.add(run_dir)
    assert len(folders) == len(DBT_TASKS)


@pytest.mark.parametrize(
    ("dag_id", "expected", "excluded"),
    [
        ("webshop_batch_dag", {"dim_users", "fct_orders", "fct_order_events"}, set()),
        ("webshop_stream_dag", {"fct_order_events", "stg_kafka__order_events"}, {"dim_users"}),
    ],
)
def test_dbt_build_resolves_its_models_with_the_task_arguments(
    dagbag: BundleDagBag,
    tmp_path: Path,
    runs_dir: Path,
    dag_id: str,
    expected: set[str],
    excluded: set[str],
) -> None:
    rendered = render_task(dagbag.dags[dag_id], "dbt_build", RUN_AFTER)
    record = tmp_path / "dbt.args"
    result = run_bash(rendered.command, DBT_BIN=_recording_dbt(tmp_path, record, lists="model"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    models = set(result.stdout.split())
    assert expected <= models, f"{dag_id} does not build {expected - models}"
    assert not excluded & models, f"{dag_id} builds {excluded & models}"

    args = _recorded_args(record)
    if dag_id == "webshop_stream_dag":
        # The stream build follows what has landed, not the run's clock.
        assert "--vars" not in args
        return
    # dbt reads --vars as YAML: it must come out as this run's interval, half-open, in UTC.
    interval = yaml.safe_load(_flag(args, "--vars"))
    assert set(interval) == {"interval_start", "interval_end"}
    assert datetime.fromisoformat(interval["interval_start"]) == rendered.interval_start
    assert datetime.fromisoformat(interval["interval_end"]) == rendered.interval_end
    assert datetime.fromisoformat(interval["interval_end"]).utcoffset() == timedelta(0)


# Tests that need the whole history (tag full_history): the weekly run has them, the daily not.
FULL_HISTORY_TESTS = {
    "assert_fct_orders_reconciles_with_raw",
    "scd2_valid_ranges_dim_products_product_id",
    "unique_combination_of_columns_daily_order_trend_source__date_day",
}


def _selected_tests(
    dagbag: BundleDagBag, tmp_path: Path, dag_id: str, task_id: str
) -> tuple[set[str], list[str]]:
    """The tests dbt selects with the task's own arguments, and the arguments it got."""
    rendered = render_task(dagbag.dags[dag_id], task_id, RUN_AFTER)
    record = tmp_path / f"{dag_id}.args"
    dbt = _recording_dbt(tmp_path / dag_id, record, lists="test")
    result = run_bash(rendered.command, DBT_BIN=dbt)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return set(result.stdout.split()), _recorded_args(record)


def test_only_the_weekly_quality_run_has_the_full_history_tests(
    dagbag: BundleDagBag, tmp_path: Path, runs_dir: Path
) -> None:
    for dag_id in ("webshop_batch_dag", "webshop_quality_dag"):
        (tmp_path / dag_id).mkdir()
    daily, daily_args = _selected_tests(dagbag, tmp_path, "webshop_batch_dag", "dbt_build")
    weekly, weekly_args = _selected_tests(dagbag, tmp_path, "webshop_quality_dag", "dbt_test")
    assert daily_args[0] == "build" and "--vars" in daily_args
    assert weekly_args[:3] == ["test", "--selector", "quality"]
    # No interval vars: every test of the weekly run reads the whole history.
    assert "--vars" not in weekly_args
    assert not FULL_HISTORY_TESTS & daily, f"the daily build runs {FULL_HISTORY_TESTS & daily}"
    assert weekly >= FULL_HISTORY_TESTS, f"the weekly run misses {FULL_HISTORY_TESTS - weekly}"
    # The weekly run is a superset: every test the daily run scopes, over every row.
    assert daily < weekly
    assert "not_null_stg_fakestore__carts_user_id" in daily


def test_delete_old_files_keeps_what_is_within_the_retention(
    dagbag: BundleDagBag, tmp_path: Path, runs_dir: Path
) -> None:
    rendered = render_task(dagbag.dags["webshop_maintenance_dag"], "delete_old_files", RUN_AFTER)
    logs = tmp_path / "logs"
    old_log = logs / "dag_id=x" / "old.log"
    new_log = logs / "dag_id=y" / "new.log"
    old_run = runs_dir / "webshop_batch_dag" / "old_run" / "dbt_build" / "target" / "x.json"
    for path in (old_log, new_log, old_run):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    forty_days_ago = (datetime.now(UTC) - timedelta(days=40)).timestamp()
    for path in (old_log, old_run):
        os.utime(path, (forty_days_ago, forty_days_ago))
    result = run_bash(
        rendered.command, AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(logs), AIRFLOW_RETENTION_DAYS="30"
    )
    assert result.returncode == 0, result.stderr
    assert new_log.is_file()
    assert not old_log.exists() and not old_log.parent.exists()
    assert not (runs_dir / "webshop_batch_dag").exists()
    assert result.stdout.count("1 files deleted") == 2


def test_airflow_db_clean_purges_before_the_interval_end_minus_the_retention(
    dagbag: BundleDagBag, tmp_path: Path
) -> None:
    rendered = render_task(dagbag.dags["webshop_maintenance_dag"], "airflow_db_clean", RUN_AFTER)
    record = tmp_path / "airflow.args"
    airflow = stand_in(
        tmp_path / "airflow",
        f'printf "%s\\0" "$@" "$AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" > "{record}"\n',
    )
    conn = "postgresql://meta:pw@db/airflow"
    result = run_bash(
        rendered.command,
        AIRFLOW_BIN=airflow,
        AIRFLOW_METADATA_CONN=conn,
        AIRFLOW_RETENTION_DAYS="30",
    )
    assert result.returncode == 0, result.stderr
    *args, granted_conn = _recorded_args(record)
    assert args[:2] == ["db", "clean"]
    cutoff = datetime.fromisoformat(_flag(args, "--clean-before-timestamp"))
    assert cutoff == rendered.interval_end - timedelta(days=30)
    assert {"--skip-archive", "--yes"} <= set(args)
    assert granted_conn == conn

    # Without the granted URL the task fails before it touches anything.
    record.unlink()
    failed = run_bash("unset AIRFLOW_METADATA_CONN\n" + rendered.command, AIRFLOW_BIN=airflow)
    assert failed.returncode != 0 and "AIRFLOW_METADATA_CONN is not set" in failed.stderr
    assert not record.exists()
