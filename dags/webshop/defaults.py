"""Settings every webshop DAG shares: task defaults (retries with back-off, the failure alert)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from webshop.alerts import on_failure_alert
from webshop.commands import dbt_run_dir, dbt_runs_root

# The Airflow pool every dbt invocation runs in; one slot, so two dbt runs never overlap
# (created by stack/prepare_airflow.sh and by the DAG tests).
DBT_POOL = "dbt"

# Functions the bash templates call at render time (a DAG's user_defined_macros).
TEMPLATE_MACROS = {"dbt_run_dir": dbt_run_dir, "dbt_runs_root": dbt_runs_root}


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
