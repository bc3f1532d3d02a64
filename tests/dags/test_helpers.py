"""The helpers behind the DAGs: the shell logic of the commands, dbt artifacts, the alert.

Commands are the DAG tasks' own, rendered by Airflow (tests/dags/rendering.py), and run with
stand-in executables (DBT_BIN / DENO_BIN pointing at small scripts).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from rendering import render_task, run_bash, stand_in
from webshop import alerts
from webshop.commands import FRESHNESS_STALE_EXIT, dbt_run_dir
from webshop.dbt_artifacts import refreshed_relations

START = datetime(2026, 11, 19, tzinfo=UTC)
END = datetime(2026, 11, 20, tzinfo=UTC)
# A manual run triggered during 20 November: its batch interval is [START, END).
RUN_AFTER = datetime(2026, 11, 20, 5, 7, tzinfo=UTC)


def test_extract_falls_back_to_deno_on_path(dagbag, tmp_path: Path) -> None:
    stand_in(tmp_path / "deno", 'echo "from PATH: $1"\n')
    rendered = render_task(dagbag.dags["webshop_batch_dag"], "extract", RUN_AFTER)
    env = {"PATH": f"{tmp_path}:{os.environ['PATH']}", "LOADER_PASSWORD": "x"}
    result = run_bash("unset DENO_BIN\n" + rendered.command, **env)
    assert result.stdout.strip() == "from PATH: task"


def test_two_runs_never_share_a_dbt_folder() -> None:
    first = dbt_run_dir("d", "manual__2026-11-19T00:00:00+00:00", "dbt_build")
    second = dbt_run_dir("d", "scheduled__2026-11-19T00:00:00+00:00", "dbt_build")
    assert first != second
    assert dbt_run_dir("d", "r", "dbt_build") != dbt_run_dir("d", "r", "dbt_source_freshness")


def _freshness(dagbag, tmp_path: Path, exit_code: int, statuses: list[str]) -> int:
    results = {
        "results": [{"unique_id": f"source.x.{i}", "status": s} for i, s in enumerate(statuses)]
    }
    # dbt writes the results file named by --output; the stand-in does the same.
    dbt = stand_in(
        tmp_path / "dbt",
        'out=""; while [ $# -gt 0 ]; do [ "$1" = --output ] && out="$2"; shift; done\n'
        f'mkdir -p "$(dirname "$out")"; echo \'{json.dumps(results)}\' > "$out"\n'
        f"exit {exit_code}\n",
    )
    rendered = render_task(dagbag.dags["webshop_batch_dag"], "dbt_source_freshness", RUN_AFTER)
    return run_bash(rendered.command, DBT_BIN=dbt).returncode


def test_freshness_is_warn_level(dagbag, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_RUNS_DIR", str(tmp_path / "runs"))
    # The skip code is the one the task hands to BashOperator.
    task = dagbag.dags["webshop_batch_dag"].get_task("dbt_source_freshness")
    assert task.skip_on_exit_code == [FRESHNESS_STALE_EXIT]
    assert _freshness(dagbag, tmp_path, 0, ["pass", "warn"]) == 0
    # error-level staleness: skip (BashOperator's skip_on_exit_code), never fail the run
    assert _freshness(dagbag, tmp_path, 1, ["pass", "error"]) == FRESHNESS_STALE_EXIT
    # dbt could not query a source: that is a failure, not staleness
    assert _freshness(dagbag, tmp_path, 1, ["error", "runtime error"]) == 1
    assert _freshness(dagbag, tmp_path, 2, []) == 2


def test_runs_without_vars_share_the_partial_parse(
    dagbag, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBT_RUNS_DIR", str(tmp_path / "runs"))
    # The stand-in reports whether its target path was seeded, then "parses" (writes the file).
    dbt = stand_in(
        tmp_path / "dbt",
        'target=""; while [ $# -gt 0 ]; do [ "$1" = --target-path ] && target="$2"; shift; done\n'
        'if [ -f "$target/partial_parse.msgpack" ]; then echo seeded; else echo cold; fi\n'
        'echo manifest > "$target/partial_parse.msgpack"\n',
    )
    outputs = [
        run_bash(
            render_task(dagbag.dags[dag_id], task_id, RUN_AFTER + timedelta(hours=hour)).command,
            DBT_BIN=dbt,
        ).stdout.split()[0]
        for hour, (dag_id, task_id) in enumerate(
            (
                ("webshop_stream_dag", "dbt_build"),
                ("webshop_batch_dag", "dbt_source_freshness"),
                ("webshop_batch_dag", "dbt_build"),
            )
        )
    ]
    # The second run reuses the first one's parse; a run with --vars parses afresh.
    assert outputs == ["cold", "seeded", "cold"]


def _write_artifacts(target: Path) -> None:
    target.mkdir(parents=True)
    results = [
        {
            "unique_id": "model.webshop.fct_orders",
            "status": "success",
            "execution_time": 1.23456,
            "adapter_response": {"rows_affected": 42},
        },
        {"unique_id": "model.webshop.dim_users", "status": "error", "execution_time": 0.1},
        {"unique_id": "model.webshop.stg_fakestore__carts", "status": "success"},
        {"unique_id": "test.webshop.not_null_fct_orders_order_id", "status": "pass"},
        {
            "unique_id": "model.webshop.top_revenue",
            "status": "success",
            "relation_name": '"warehouse"."analysis"."top_revenue"',
        },
    ]
    nodes = {
        "model.webshop.fct_orders": {
            "database": "warehouse",
            "schema": "marts",
            "name": "fct_orders",
            "config": {"materialized": "table"},
        },
        "model.webshop.stg_fakestore__carts": {
            "database": "warehouse",
            "schema": "staging",
            "name": "stg_fakestore__carts",
        },
    }
    (target / "run_results.json").write_text(json.dumps({"results": results}))
    (target / "manifest.json").write_text(json.dumps({"nodes": nodes}))


def test_refreshed_relations_are_the_built_marts_and_analysis_views(tmp_path: Path) -> None:
    _write_artifacts(tmp_path / "target")
    relations = refreshed_relations(tmp_path / "target")
    assert [(r.schema, r.name) for r in relations] == [
        ("analysis", "top_revenue"),
        ("marts", "fct_orders"),
    ]
    fct = relations[1]
    assert fct.rows_affected == 42 and fct.execution_time_s == 1.235
    assert (
        fct.asset_uri("127.0.0.1", "5432") == "postgres://127.0.0.1:5432/warehouse/marts/fct_orders"
    )


def test_refreshed_relations_without_a_build_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="No dbt run results"):
        refreshed_relations(tmp_path)


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _failure_context() -> dict:
    ti = SimpleNamespace(
        dag_id="webshop_batch_dag",
        task_id="dbt_build",
        run_id="scheduled__x",
        try_number=3,
        max_tries=2,
        log_url="http://127.0.0.1:8080/log",
    )
    return {
        "ti": ti,
        "logical_date": START,
        "data_interval_start": START,
        "data_interval_end": END,
        "exception": RuntimeError("dbt test failed: not_null"),
    }


def test_failure_alert_is_logged_and_posted_to_the_webhook(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook")
    with caplog.at_level(logging.INFO, logger="webshop.alert"):
        alerts.on_failure_alert(_failure_context())
    thread.join(timeout=10)
    server.server_close()
    alert_line = next(r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    logged = json.loads(alert_line.removeprefix("ALERT "))
    assert logged["dag_id"] == "webshop_batch_dag" and logged["task_id"] == "dbt_build"
    assert logged["error_class"] == "RuntimeError"
    assert logged["data_interval_start"] == "2026-11-19T00:00:00+00:00"
    assert _Receiver.received == [logged]


def test_a_broken_webhook_never_raises(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ALERT_WEBHOOK_URL", "http://127.0.0.1:9/unreachable")
    with caplog.at_level(logging.WARNING, logger="webshop.alert"):
        alerts.on_failure_alert(_failure_context())
    assert any("Alert webhook POST" in r.getMessage() for r in caplog.records)
