"""
### webshop_maintenance_dag: Airflow's own housekeeping, daily

Airflow keeps every task log and every run, task instance, XCom and event in its metadata
database forever unless told otherwise. This DAG keeps both bounded:

- `delete_old_files`: deletes task log files and per-run dbt artifact folders
  (`$DBT_RUNS_DIR`) older than the retention.
- `airflow_db_clean`: `airflow db clean --clean-before-timestamp <end - retention>
  --skip-archive --yes`.

Retention: `AIRFLOW_RETENTION_DAYS` (default 30 days), counted back from the run's
`data_interval_end`, so re-running an old interval never deletes more than it should.
The warehouse is not touched here: raw and audit retention are separate decisions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, CronDataIntervalTimetable

from webshop.commands import (
    airflow_db_clean_command,
    delete_old_files_command,
)
from webshop.defaults import TEMPLATE_MACROS, task_defaults

with DAG(
    dag_id="webshop_maintenance_dag",
    description="Deletes old Airflow logs, dbt run folders and metadata rows",
    doc_md=__doc__,
    # 03:30 UTC, away from the batch run just after midnight.
    schedule=CronDataIntervalTimetable("30 3 * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=1),
    default_args=task_defaults(retries=1, retry_delay=timedelta(minutes=5)),
    user_defined_macros=TEMPLATE_MACROS,
    tags=["webshop", "maintenance", "airflow"],
) as dag:
    delete_old_files = BashOperator(
        task_id="delete_old_files",
        bash_command=delete_old_files_command(),
        skip_on_exit_code=None,
        execution_timeout=timedelta(minutes=20),
        doc_md="Deletes log files and dbt run folders older than the retention.",
    )

    airflow_db_clean = BashOperator(
        task_id="airflow_db_clean",
        bash_command=airflow_db_clean_command(),
        skip_on_exit_code=None,
        execution_timeout=timedelta(minutes=30),
        doc_md="`airflow db clean` of metadata rows older than the retention, no archive tables.",
    )

    delete_old_files >> airflow_db_clean
