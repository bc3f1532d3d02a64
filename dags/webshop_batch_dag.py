"""
### webshop_batch_dag: the daily Fake Store scrape, then the batch warehouse build

Each run owns one **data interval**: the UTC day `[data_interval_start, data_interval_end)`
(half-open). A scheduled run for logical date *D* processes day *D* and starts just after
midnight of *D + 1*. A manual run (UI "Trigger", `airflow dags trigger`, `airflow dags test`)
for a date processes the last complete day before it.

Tasks, in order:

- `extract`: `deno task extract --start <start> --end <end>` as the `loader` role. Lands products,
  users and that day's carts into `raw.*`, with an audit row in `audit.extract_runs`.
- `dbt_build`: `dbt build --selector batch` (selectors.yml: every model and test) with the
  `interval_start` / `interval_end` vars; dbt checks that a complete extract covers the
  interval. A failing dbt test fails the run. Runs in pool `dbt` (one slot).
- `dbt_source_freshness`: `dbt source freshness`, warn-level. A stale source **skips** this task
  and the run stays green; a dbt error fails it.
- `publish_assets`: one Asset event per mart / analysis relation the build refreshed, read from
  dbt's `run_results.json` (alias `webshop_warehouse_relations`).

Re-running a day is safe: the extractor replaces that interval's raw rows and the models are
rebuilt from raw, so the marts come out the same. Backfill a range with
`airflow backfill create --dag-id webshop_batch_dag --from-date 2026-11-20 --to-date 2026-11-24
--reprocess-behavior completed`.

Each dbt invocation writes its `target/` and `logs/` under `$DBT_RUNS_DIR/<dag>/<run>/<task>`
(default `$AIRFLOW_HOME/dbt-runs`), so concurrent or repeated runs never share artifacts. A task
that fails after its retries logs a structured alert and POSTs it to `ALERT_WEBHOOK_URL` if set.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG

from webshop.assets import publish_assets
from webshop.commands import (
    FRESHNESS_STALE_EXIT,
    dbt_build_command,
    dbt_freshness_command,
    extract_command,
)
from webshop.defaults import DAG_DEFAULTS, DBT_POOL, bash_task, task_defaults, utc_cron

with DAG(
    dag_id="webshop_batch_dag",
    description="Daily Fake Store extract (Deno) and dbt build of the batch models",
    doc_md=__doc__,
    # A real data interval: each run covers one whole UTC day, half-open.
    schedule=utc_cron("0 0 * * *"),
    dagrun_timeout=timedelta(hours=3),
    default_args=task_defaults(),
    tags=["webshop", "batch", "deno", "dbt"],
    **DAG_DEFAULTS,
) as dag:
    extract = bash_task(
        "extract",
        extract_command(),
        execution_timeout=timedelta(minutes=30),
        doc_md="Lands the interval's raw rows with the Deno extractor (`workers/extract`).",
    )

    dbt_build = bash_task(
        "dbt_build",
        dbt_build_command("batch", with_interval=True),
        pool=DBT_POOL,
        # A failing dbt test is deterministic: one retry covers a dropped connection.
        retries=1,
        execution_timeout=timedelta(hours=1),
        doc_md="`dbt build --selector batch` for the run's interval (models and tests).",
    )

    dbt_source_freshness = bash_task(
        "dbt_source_freshness",
        dbt_freshness_command(),
        skip_on_exit_code=FRESHNESS_STALE_EXIT,
        pool=DBT_POOL,
        retries=1,
        execution_timeout=timedelta(minutes=15),
        doc_md="`dbt source freshness`: stale sources skip this task (warn level).",
    )

    extract >> dbt_build >> dbt_source_freshness >> publish_assets("dbt_build")
