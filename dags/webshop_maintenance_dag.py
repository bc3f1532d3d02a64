"""
### webshop_maintenance_dag: Airflow's own housekeeping, daily

Airflow keeps every task log and every run, task instance, XCom and event in its metadata
database forever unless told otherwise. This DAG keeps both bounded:

- `delete_old_files`: deletes task log files and per-run dbt artifact folders
  (`$DBT_RUNS_DIR`) older than the retention.
- `airflow_db_clean`: `airflow db clean --clean-before-timestamp <end - retention>
  --skip-archive --yes`.

Retention: `AIRFLOW_RETENTION_DAYS` (default 30 days). Metadata rows count it back from the
run's `data_interval_end`, so re-running an old interval never deletes more than it should;
files count it back from the time the task runs (their modification time).
The warehouse is not touched here: raw and audit retention are separate decisions.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG

from webshop.commands import airflow_db_clean_command, delete_old_files_command
from webshop.defaults import DAG_DEFAULTS, bash_task, task_defaults, utc_cron

with DAG(
    dag_id="webshop_maintenance_dag",
    description="Deletes old Airflow logs, dbt run folders and metadata rows",
    doc_md=__doc__,
    # 03:30 UTC, away from the batch run just after midnight.
    schedule=utc_cron("30 3 * * *"),
    dagrun_timeout=timedelta(hours=1),
    default_args=task_defaults(retries=1, retry_delay=timedelta(minutes=5)),
    tags=["webshop", "maintenance", "airflow"],
    **DAG_DEFAULTS,
) as dag:
    delete_old_files = bash_task(
        "delete_old_files",
        delete_old_files_command(),
        execution_timeout=timedelta(minutes=20),
        doc_md="Deletes log files and dbt run folders older than the retention.",
    )

    airflow_db_clean = bash_task(
        "airflow_db_clean",
        airflow_db_clean_command(),
        execution_timeout=timedelta(minutes=30),
        doc_md="`airflow db clean` of metadata rows older than the retention, no archive tables.",
    )

    delete_old_files >> airflow_db_clean
