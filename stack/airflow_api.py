#!/usr/bin/env python3
"""Drives the running Airflow through its REST API (v2): what `make demo` and `make status` use.

  airflow_api.py wait-dags DAG...                 wait until the DAG processor has parsed them
  airflow_api.py backfill DAG FROM TO             backfill logical dates FROM..TO (inclusive,
                                                  YYYY-MM-DD) through the scheduler, reprocessing
                                                  completed runs, one run at a time; waits
  airflow_api.py trigger DAG                      unpause, trigger one run now, wait for it
  airflow_api.py unpause DAG...                   unpause
  airflow_api.py last-run DAG                     one line: the latest run and its state

Talks to http://127.0.0.1:$AIRFLOW_PORT as $AIRFLOW_ADMIN_USER (Simple auth manager, native
mode). Progress goes to stdout; when a run fails, the failing task's log tail is printed and the
exit code is 1. Standard library only: it runs with the system Python, like the stack manager.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

TERMINAL = {"success", "failed"}
POLL_S = 5


class ApiError(Exception):
    """A failure the user must see (message includes what was asked and what came back)."""


class Airflow:
    def __init__(self) -> None:
        self.base = f"http://127.0.0.1:{os.environ.get('AIRFLOW_PORT', '8080')}"
        self._token: str | None = None

    def _call(self, method: str, path: str, body: dict | None = None, auth: bool = True) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:1000]
            raise ApiError(f"{method} {path} answered {error.code}: {detail}") from None
        except urllib.error.URLError as error:
            raise ApiError(f"Airflow API at {self.base} unreachable: {error.reason}") from None
        return json.loads(raw) if raw else {}

    def token(self) -> str:
        if self._token is None:
            body = {
                "username": os.environ.get("AIRFLOW_ADMIN_USER", "admin"),
                "password": os.environ.get("AIRFLOW_ADMIN_PASSWORD", "admin"),
            }
            self._token = self._call("POST", "/auth/token", body, auth=False)["access_token"]
        return self._token

    def get(self, path: str, **query: object) -> dict:
        if query:
            path += "?" + urllib.parse.urlencode(query, doseq=True)
        return self._call("GET", path)

    def post(self, path: str, body: dict) -> dict:
        return self._call("POST", path, body)

    def patch(self, path: str, body: dict) -> dict:
        return self._call("PATCH", path, body)

    def put(self, path: str, body: dict) -> dict:
        return self._call("PUT", path, body)

    # --- higher level -------------------------------------------------------------------------

    def dag(self, dag_id: str) -> dict | None:
        try:
            return self.get(f"/api/v2/dags/{dag_id}")
        except ApiError as error:
            if " answered 404" in str(error):
                return None
            raise

    def unpause(self, dag_id: str) -> None:
        self.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def runs(self, dag_id: str, **query: object) -> list[dict]:
        query.setdefault("limit", 100)
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns", **query)["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        run = urllib.parse.quote(run_id, safe="")
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run}/taskInstances")["task_instances"]

    def log_tail(self, dag_id: str, run_id: str, task_id: str, try_number: int, lines: int) -> str:
        run = urllib.parse.quote(run_id, safe="")
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run}/taskInstances/{task_id}/logs/{try_number}"
        content = self.get(path, full_content="true").get("content", [])
        rendered = []
        for item in content if isinstance(content, list) else [content]:
            if isinstance(item, dict):
                event = item.get("event", "")
                rendered.append(
                    f"{item.get('timestamp', '')} {item.get('level', '')} {event}".strip()
                )
            else:
                rendered.extend(str(item).splitlines())
        return "\n".join(rendered[-lines:])


def wait_dags(api: Airflow, dag_ids: list[str], timeout_s: int = 240) -> None:
    deadline = time.monotonic() + timeout_s
    missing = list(dag_ids)
    while missing:
        missing = [dag_id for dag_id in dag_ids if api.dag(dag_id) is None]
        if not missing:
            break
        if time.monotonic() > deadline:
            raise ApiError(
                f"DAGs not parsed after {timeout_s}s: {', '.join(missing)} "
                "(see the airflow-dag-processor log)"
            )
        time.sleep(POLL_S)
    print(f"DAGs known to Airflow: {', '.join(dag_ids)}", flush=True)


def _describe_failure(api: Airflow, dag_id: str, run: dict) -> str:
    lines = [f"{dag_id} run {run['dag_run_id']} failed"]
    for ti in api.task_instances(dag_id, run["dag_run_id"]):
        if ti["state"] in ("failed", "upstream_failed"):
            lines.append(f"  task {ti['task_id']}: {ti['state']} (try {ti['try_number']})")
    for ti in api.task_instances(dag_id, run["dag_run_id"]):
        if ti["state"] == "failed":
            tail = api.log_tail(dag_id, run["dag_run_id"], ti["task_id"], ti["try_number"], 40)
            lines.append(f"----- log tail of {ti['task_id']} -----\n{tail}\n-----")
            break
    return "\n".join(lines)


def _progress(api: Airflow, dag_id: str, runs: list[dict]) -> str:
    done = sum(1 for run in runs if run["state"] == "success")
    active = [run for run in runs if run["state"] not in TERMINAL]
    text = f"{dag_id}: {done}/{len(runs)} runs succeeded"
    if active:
        run = active[0]
        running = [
            ti["task_id"]
            for ti in api.task_instances(dag_id, run["dag_run_id"])
            if ti["state"] == "running"
        ]
        interval = (run.get("data_interval_start") or "")[:10]
        text += f"; now {interval or run['dag_run_id']}: {', '.join(running) or run['state']}"
    return text


def wait_runs(api: Airflow, dag_id: str, select, finished, timeout_s: int) -> None:
    """Waits until `finished()` and every run `select()` picks is green; fails on a failed run."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while True:
        runs = select()
        failed = [run for run in runs if run["state"] == "failed"]
        if failed:
            raise ApiError(_describe_failure(api, dag_id, failed[0]))
        line = _progress(api, dag_id, runs)
        if line != last:
            print(f"  {line}", flush=True)
            last = line
        if runs and all(run["state"] == "success" for run in runs) and finished():
            return
        if time.monotonic() > deadline:
            raise ApiError(f"{dag_id}: runs not finished after {timeout_s}s ({line})")
        time.sleep(POLL_S)


def backfill(api: Airflow, dag_id: str, from_date: str, to_date: str, timeout_s: int) -> None:
    start = datetime.fromisoformat(from_date).replace(tzinfo=UTC)
    end = datetime.fromisoformat(to_date).replace(tzinfo=UTC)
    # Only one backfill per DAG may be active (an interrupted demo leaves one): cancel it.
    for old in api.get("/api/v2/backfills", dag_id=dag_id, limit=100)["backfills"]:
        if old.get("completed_at") is None:
            print(f"  an earlier backfill ({old['id']}) is still active: cancelling it", flush=True)
            api.put(f"/api/v2/backfills/{old['id']}/cancel", {})
    body = {
        "dag_id": dag_id,
        "from_date": start.isoformat(),
        "to_date": end.isoformat(),
        "reprocess_behavior": "completed",
        "max_active_runs": 1,
        "run_backwards": False,
    }
    planned = api.post("/api/v2/backfills/dry_run", body).get("backfills", [])
    created = api.post("/api/v2/backfills", body)
    print(
        f"  backfill {created['id']}: {len(planned)} run(s), logical dates {from_date} .. "
        f"{to_date}, one at a time",
        flush=True,
    )
    api.unpause(dag_id)
    # Logical dates are interval starts: the window covers every run of the backfilled days.
    window = {
        "logical_date_gte": start.isoformat(),
        "logical_date_lte": (end + timedelta(days=1, seconds=-1)).isoformat(),
        "order_by": "logical_date",
    }

    def finished() -> bool:
        return api.get(f"/api/v2/backfills/{created['id']}").get("completed_at") is not None

    wait_runs(api, dag_id, lambda: api.runs(dag_id, **window), finished, timeout_s)


def trigger(api: Airflow, dag_id: str, timeout_s: int) -> None:
    api.unpause(dag_id)
    run_id = f"demo__{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"
    now = datetime.now(UTC).replace(microsecond=0)
    api.post(
        f"/api/v2/dags/{dag_id}/dagRuns", {"dag_run_id": run_id, "logical_date": now.isoformat()}
    )
    print(f"  triggered {dag_id} run {run_id}", flush=True)

    def select() -> list[dict]:
        return [
            run
            for run in api.runs(dag_id, order_by="-run_after", limit=20)
            if run["dag_run_id"] == run_id
        ]

    wait_runs(api, dag_id, select, lambda: True, timeout_s)


def last_run(api: Airflow, dag_id: str) -> str:
    runs = api.runs(dag_id, order_by="-run_after", limit=1)
    if not runs:
        return f"{dag_id}: no runs yet"
    run = runs[0]
    start = (run.get("data_interval_start") or "")[:16]
    end = (run.get("data_interval_end") or "")[:16]
    interval = f"{start} .. {end}"
    ended = (run.get("end_date") or "")[:19] or "-"
    return f"{dag_id}: {run['state']} (interval {interval}, ended {ended}, {run['dag_run_id']})"


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    api = Airflow()
    command, args = argv[0], argv[1:]
    try:
        if command == "wait-dags":
            wait_dags(api, args)
        elif command == "backfill":
            dag_id, from_date, to_date = args
            backfill(
                api, dag_id, from_date, to_date, int(os.environ.get("DEMO_RUN_TIMEOUT_S", "1500"))
            )
        elif command == "trigger":
            trigger(api, args[0], int(os.environ.get("DEMO_RUN_TIMEOUT_S", "1500")))
        elif command == "unpause":
            for dag_id in args:
                api.unpause(dag_id)
        elif command == "last-run":
            print(last_run(api, args[0]))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except ApiError as error:
        print(f"ERROR: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
