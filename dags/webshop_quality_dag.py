"""
### webshop_quality_dag: every dbt test over the whole history, weekly

The daily batch build tests only the interval it built (the interval vars scope every data test
to that day's rows) and leaves out the tests that only make sense over the whole history: the
SCD2 range checks, the analysis views' grain and the reconciliation of `fct_orders` with raw
(tag `full_history`). This DAG runs them all once a week, with no interval vars:

- `dbt_test`: `dbt test --selector quality` (selectors.yml: every data and unit test of the
  warehouse, `full_history` included), in pool `dbt`, so it never overlaps a build.

It builds nothing: it reads the marts the batch and stream DAGs built. A failure names the test
in the task log and in `run_results.json` under `$DBT_RUNS_DIR/webshop_quality_dag/<run>/dbt_test`;
docs/operations.md says what to do. The same tests run by hand with `make transform` (it builds
too) or `dbt test --selector quality`. A task that fails after its retries logs a structured
alert and POSTs it to `ALERT_WEBHOOK_URL` if set.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG

from webshop.commands import dbt_test_command
from webshop.defaults import DAG_DEFAULTS, DBT_POOL, bash_task, task_defaults, utc_cron

with DAG(
    dag_id="webshop_quality_dag",
    description="Weekly dbt test of the whole warehouse history (full-history tests included)",
    doc_md=__doc__,
    # Sundays 04:00 UTC, after the batch run (00:00) and the maintenance run (03:30).
    schedule=utc_cron("0 4 * * 0"),
    dagrun_timeout=timedelta(hours=3),
    # A failing test is deterministic: one retry covers a dropped connection.
    default_args=task_defaults(retries=1, retry_delay=timedelta(minutes=5)),
    tags=["webshop", "quality", "dbt"],
    **DAG_DEFAULTS,
) as dag:
    dbt_test = bash_task(
        "dbt_test",
        dbt_test_command("quality"),
        pool=DBT_POOL,
        execution_timeout=timedelta(hours=2),
        doc_md="`dbt test --selector quality` over the whole history (no interval vars).",
    )
