"""Settings every webshop DAG and task shares: the DAG house rules, task retries and alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import CronDataIntervalTimetable

from webshop.alerts import on_failure_alert
from webshop.commands import dbt_run_dir, dbt_runs_root

# The Airflow pool every dbt invocation runs in; one slot, so two dbt runs never overlap
# (created by stack/prepare_airflow.sh and by the DAG tests).
DBT_POOL = "dbt"

# Functions the bash templates call at render time (a DAG's user_defined_macros).
TEMPLATE_MACROS = {"dbt_run_dir": dbt_run_dir, "dbt_runs_root": dbt_runs_root}

# DAG(...) arguments every webshop DAG takes: a fixed start, no catch-up (a backfill is an explicit
# `airflow backfill create`), one run at a time, and the macros the commands render with.
DAG_DEFAULTS: dict[str, Any] = {
    "start_date": datetime(2026, 11, 1, tzinfo=UTC),
    "catchup": False,
    "max_active_runs": 1,
    "user_defined_macros": TEMPLATE_MACROS,
}


def utc_cron(expression: str) -> CronDataIntervalTimetable:
    """A cron schedule in UTC whose runs each own the interval between two ticks, half-open."""
    return CronDataIntervalTimetable(expression, timezone="UTC")


def task_defaults(
    *, retries: int = 2, retry_delay: timedelta = timedelta(minutes=1)
) -> dict[str, Any]:
    """default_args: retries with exponential back-off (x2, capped) and the failure alert."""
    return {
        "owner": "data-platform",
        "retries": retries,
        "retry_delay": retry_delay,
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=15),
        "on_failure_callback": on_failure_alert,
    }


def bash_task(
    task_id: str,
    bash_command: str,
    *,
    execution_timeout: timedelta,
    doc_md: str,
    skip_on_exit_code: int | None = None,
    **kwargs: Any,
) -> BashOperator:
    """A bash task in the current DAG; every non-zero exit fails it unless it names one to skip.

    BashOperator skips on exit 99 by default: a command that happens to exit 99 would turn a
    failure into a green run, so only a task that means it (dbt freshness) passes a skip code.
    """
    return BashOperator(
        task_id=task_id,
        bash_command=bash_command,
        skip_on_exit_code=skip_on_exit_code,
        execution_timeout=execution_timeout,
        doc_md=doc_md,
        **kwargs,
    )
