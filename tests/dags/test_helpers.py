"""The helpers behind the DAGs: commands as rendered, dbt artifacts, the failure alert.

Commands are rendered with Jinja the way Airflow renders them and run with stand-in executables
(DBT_BIN / DENO_BIN pointing at small scripts), so the shell logic is exercised for real.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest

from webshop import alerts
from webshop.commands import (
    FRESHNESS_STALE_EXIT,
    dbt_build_command,
    dbt_freshness_command,
    dbt_run_dir,
    dbt_runs_root,
    extract_command,
)
from webshop.dbt_artifacts import refreshed_relations

START = datetime(2026, 11, 19, tzinfo=UTC)
END = datetime(2026, 11, 20, tzinfo=UTC)


def render(command: str, run_id: str = "scheduled__2026-11-19T00:00:00+00:00") -> str:
    """Renders a bash_command with the template variables and filters Airflow provides."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters["ds"] = lambda value: value.strftime("%Y-%m-%d")
    env.filters["ts"] = lambda value: value.isoformat()
    return env.from_string(command).render(
        data_interval_start=START,
        data_interval_end=END,
        run_id=run_id,
        dag=SimpleNamespace(dag_id="webshop_batch_dag"),
        task=SimpleNamespace(task_id="dbt_build"),
        dbt_run_dir=dbt_run_dir,
        dbt_runs_root=dbt_runs_root,
    )


def fake_executable(path: Path, body: str) -> str:
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(0o755)
    return str(path)


def run_bash(script: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **env}
    return subprocess.run(
        ["bash", "-c", script], env=full_env, capture_output=True, text=True, check=False
    )


def test_extract_runs_deno_for_the_half_open_utc_day_as_loader(tmp_path: Path) -> None:
    deno = fake_executable(tmp_path / "deno", 'echo "ARGS=$* USER=$PGUSER PW=$PGPASSWORD"\n')
    result = run_bash(render(extract_command()), DENO_BIN=deno, LOADER_PASSWORD="s3cret")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "ARGS=task extract --start 2026-11-19 --end 2026-11-20 USER=loader PW=s3cret"
    )


def test_extract_falls_back_to_deno_on_path(tmp_path: Path) -> None:
    fake_executable(tmp_path / "deno", 'echo "from PATH: $1"\n')
    env = {"PATH": f"{tmp_path}:{os.environ['PATH']}", "LOADER_PASSWORD": "x"}
    result = run_bash("unset DENO_BIN\n" + render(extract_command()), **env)
    assert result.stdout.strip() == "from PATH: task"


def test_dbt_build_gets_the_interval_and_a_per_run_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dbt = fake_executable(tmp_path / "dbt", 'printf "%s\\n" "$@"\n')
    runs = tmp_path / "runs"
    monkeypatch.setenv("DBT_RUNS_DIR", str(runs))  # read when the template renders
    result = run_bash(render(dbt_build_command("batch", with_interval=True)), DBT_BIN=dbt)
    assert result.returncode == 0, result.stderr
    args = result.stdout.splitlines()
    assert args[:3] == ["build", "--selector", "batch"]
    interval = json.loads(args[args.index("--vars") + 1])
    assert interval == {
        "interval_start": "2026-11-19T00:00:00+00:00",
        "interval_end": "2026-11-20T00:00:00+00:00",
    }
    run_dir = runs / "webshop_batch_dag" / "scheduled__2026-11-19T00_00_00_00_00" / "dbt_build"
    assert args[args.index("--target-path") + 1] == f"{run_dir}/target"
    assert args[args.index("--log-path") + 1] == f"{run_dir}/logs"
    assert run_dir.is_dir()


def test_two_runs_never_share_a_dbt_folder() -> None:
    first = dbt_run_dir("d", "manual__2026-11-19T00:00:00+00:00", "dbt_build")
    second = dbt_run_dir("d", "scheduled__2026-11-19T00:00:00+00:00", "dbt_build")
    assert first != second
    assert dbt_run_dir("d", "r", "dbt_build") != dbt_run_dir("d", "r", "dbt_source_freshness")


def _freshness(tmp_path: Path, exit_code: int, statuses: list[str]) -> int:
    results = {
        "results": [{"unique_id": f"source.x.{i}", "status": s} for i, s in enumerate(statuses)]
    }
    # dbt writes the results file named by --output; the stand-in does the same.
    dbt = fake_executable(
        tmp_path / "dbt",
        'out=""; while [ $# -gt 0 ]; do [ "$1" = --output ] && out="$2"; shift; done\n'
        f'mkdir -p "$(dirname "$out")"; echo \'{json.dumps(results)}\' > "$out"\n'
        f"exit {exit_code}\n",
    )
    command = render(dbt_freshness_command())
    return run_bash(command, DBT_BIN=dbt, DBT_RUNS_DIR=str(tmp_path / "runs")).returncode


def test_freshness_is_warn_level(tmp_path: Path) -> None:
    assert _freshness(tmp_path, 0, ["pass", "warn"]) == 0
    # error-level staleness: skip (BashOperator's skip_on_exit_code), never fail the run
    assert _freshness(tmp_path, 1, ["pass", "error"]) == FRESHNESS_STALE_EXIT
    # dbt could not query a source: that is a failure, not staleness
    assert _freshness(tmp_path, 1, ["error", "runtime error"]) == 1
    assert _freshness(tmp_path, 2, []) == 2


def test_runs_without_vars_share_the_partial_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBT_RUNS_DIR", str(tmp_path / "runs"))
    # The stand-in reports whether its target path was seeded, then "parses" (writes the file).
    dbt = fake_executable(
        tmp_path / "dbt",
        'target=""; while [ $# -gt 0 ]; do [ "$1" = --target-path ] && target="$2"; shift; done\n'
        'if [ -f "$target/partial_parse.msgpack" ]; then echo seeded; else echo cold; fi\n'
        'echo manifest > "$target/partial_parse.msgpack"\n',
    )
    outputs = [
        run_bash(render(command, run_id=run_id), DBT_BIN=dbt).stdout.split()[0]
        for command, run_id in (
            (dbt_build_command("stream", with_interval=False), "run_1"),
            (dbt_freshness_command(), "run_2"),
            (dbt_build_command("batch", with_interval=True), "run_3"),
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
