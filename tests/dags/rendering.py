"""A DAG task's bash command as Airflow renders it for one run, and a way to run it for real.

Rendering goes through Airflow itself: the DAG's own Jinja environment (its filters `ds`/`ts` and
the DAG's user_defined_macros, StrictUndefined) and the data interval the DAG's timetable gives a
manual run, the same inference `airflow dags test <date>` uses. Executables the command launches
are replaced by stand-ins (DBT_BIN / DENO_BIN / AIRFLOW_BIN), so the shell logic runs for real.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pendulum
from airflow.sdk import DAG
from airflow.serialization.encoders import coerce_to_core_timetable


@dataclass(frozen=True)
class RenderedTask:
    """One task's command for one manual run, with the run it was rendered for."""

    command: str
    run_id: str
    interval_start: datetime
    interval_end: datetime


def render_task(dag: DAG, task_id: str, run_after: datetime) -> RenderedTask:
    """Renders `task_id`'s bash_command for a manual run of `dag` triggered at `run_after`."""
    # The scheduler hands timetables pendulum instants (the cron maths calls in_timezone).
    interval = coerce_to_core_timetable(dag.timetable).infer_manual_data_interval(
        run_after=pendulum.instance(run_after)
    )
    task = dag.get_task(task_id)
    run_id = f"manual__{run_after.isoformat()}"
    context = {
        "dag": dag,
        "task": task,
        "run_id": run_id,
        "data_interval_start": interval.start,
        "data_interval_end": interval.end,
    }
    command = task.render_template(task.bash_command, context, dag.get_template_env())
    return RenderedTask(command, run_id, interval.start, interval.end)


def stand_in(path: Path, body: str) -> str:
    """An executable bash script at `path` (a stand-in for deno, dbt or airflow)."""
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(0o755)
    return str(path)


def run_bash(script: str, **env: str) -> subprocess.CompletedProcess:
    """Runs `script` with bash -c, in the test's environment plus `env`."""
    return subprocess.run(
        ["bash", "-c", script],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
