"""
### webshop_stream_dag: incremental dbt build of the order-event models, every five minutes

The consumer lands Kafka `order_events` into `raw.order_events` continuously; this DAG folds
what arrived into the warehouse. Each run owns the five-minute interval
`[data_interval_start, data_interval_end)` and runs

- `dbt_build`: `dbt build --selector stream` (selectors.yml: the event staging and the
  incremental `fct_order_events`, with their tests), in pool `dbt`, so it never overlaps the
  batch build. It resolves product and user versions from the history a batch run built, so
  the batch DAG must have run once on an empty warehouse.
- `publish_assets`: one Asset event per mart / analysis relation the build refreshed
  (alias `webshop_warehouse_relations`).

The event models are incremental on what has landed, not on the run's clock, so a skipped or
late run loses nothing: the next run picks up every event that arrived since. Missed intervals
are therefore not caught up (`catchup=False`), and one run at a time is enough.
A task that fails after its retries logs a structured alert and POSTs it to `ALERT_WEBHOOK_URL`
if set.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG

from webshop.assets import publish_assets
from webshop.commands import dbt_build_command
from webshop.defaults import DAG_DEFAULTS, DBT_POOL, bash_task, task_defaults, utc_cron

with DAG(
    dag_id="webshop_stream_dag",
    description="Incremental dbt build of the Kafka order-event models",
    doc_md=__doc__,
    schedule=utc_cron("*/5 * * * *"),
    dagrun_timeout=timedelta(minutes=30),
    default_args=task_defaults(retries=2, retry_delay=timedelta(seconds=30)),
    tags=["webshop", "stream", "dbt"],
    **DAG_DEFAULTS,
) as dag:
    dbt_build = bash_task(
        "dbt_build",
        dbt_build_command("stream", with_interval=False),
        pool=DBT_POOL,
        execution_timeout=timedelta(minutes=20),
        doc_md="`dbt build` of the incremental event models and their tests.",
    )

    dbt_build >> publish_assets("dbt_build")
