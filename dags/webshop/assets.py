"""The task that turns a dbt build's results into Airflow Asset events.

Which marts a build refreshed is only known after it ran, so the DAGs declare one AssetAlias as
the outlet and attach an Asset per refreshed relation at run time (`outlet_events`). Downstream
DAGs can schedule on the alias or on a single mart's Asset (postgres://host:port/db/schema/table).
"""

from __future__ import annotations

import logging
import os

from airflow.sdk import Asset, AssetAlias, Context, TriggerRule, get_current_context, task

from webshop.commands import dbt_run_dir
from webshop.dbt_artifacts import refreshed_relations

log = logging.getLogger(__name__)

# One alias for every mart/analysis relation dbt refreshes, whichever DAG ran the build.
WAREHOUSE_ASSETS = AssetAlias("webshop_warehouse_relations")


@task(outlets=[WAREHOUSE_ASSETS], trigger_rule=TriggerRule.NONE_FAILED)
def publish_assets(build_task_id: str) -> list[str]:
    """Emit an Asset event per mart/analysis model the upstream dbt build refreshed."""
    context: Context = get_current_context()
    run_dir = dbt_run_dir(context["dag"].dag_id, context["run_id"], build_task_id)
    relations = refreshed_relations(f"{run_dir}/target")
    host = os.environ.get("PGHOST", "127.0.0.1")
    port = os.environ.get("PGPORT", "5432")
    events = context["outlet_events"][WAREHOUSE_ASSETS]
    uris = []
    for relation in relations:
        uri = relation.asset_uri(host, port)
        events.add(
            Asset(name=f"{relation.database}.{relation.schema}.{relation.name}", uri=uri),
            extra={
                "dbt_unique_id": relation.unique_id,
                "materialized": relation.materialized,
                "rows_affected": relation.rows_affected,
                "execution_time_s": relation.execution_time_s,
                "data_interval_start": _iso(context.get("data_interval_start")),
                "data_interval_end": _iso(context.get("data_interval_end")),
            },
        )
        uris.append(uri)
    log.info("Published %d asset event(s) from %s: %s", len(uris), run_dir, ", ".join(uris))
    return uris


def _iso(value: object) -> str | None:
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if callable(isoformat) else None
