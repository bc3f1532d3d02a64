"""Reads what a dbt invocation refreshed from its artifacts (run_results.json + manifest.json).

The DAGs emit Airflow Assets for the relations a build actually refreshed, decided at run time
from these files, never at parse time. Only the standard library is imported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# dbt result statuses that mean "the relation was (re)built".
_BUILT = {"success"}
# Schemas whose relations are published as Assets: what analysts and downstream DAGs consume.
PUBLISHED_SCHEMAS = ("marts", "analysis")


@dataclass(frozen=True)
class Relation:
    """A relation a dbt model built: where it lives and how the build went."""

    unique_id: str
    database: str
    schema: str
    name: str
    materialized: str
    rows_affected: int | None
    execution_time_s: float

    def asset_uri(self, host: str, port: str) -> str:
        """The Asset URI in the postgres provider's form postgres://host:port/db/schema/table."""
        return f"postgres://{host}:{port}/{self.database}/{self.schema}/{self.name}"


def refreshed_relations(
    target_dir: str | Path, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS
) -> list[Relation]:
    """Models in `schemas` that the dbt invocation writing `target_dir` built successfully."""
    target = Path(target_dir)
    results_file = target / "run_results.json"
    if not results_file.exists():
        raise FileNotFoundError(f"No dbt run results at {results_file}: did the build run?")
    results = json.loads(results_file.read_text())["results"]
    manifest_file = target / "manifest.json"
    nodes = json.loads(manifest_file.read_text())["nodes"] if manifest_file.exists() else {}
    relations = []
    for result in results:
        unique_id = result.get("unique_id", "")
        if not unique_id.startswith("model.") or result.get("status") not in _BUILT:
            continue
        node = nodes.get(unique_id, {})
        database, schema, name = _relation_parts(result, node)
        if schema not in schemas:
            continue
        relations.append(
            Relation(
                unique_id=unique_id,
                database=database,
                schema=schema,
                name=name,
                materialized=node.get("config", {}).get("materialized", "unknown"),
                rows_affected=(result.get("adapter_response") or {}).get("rows_affected"),
                execution_time_s=round(float(result.get("execution_time") or 0.0), 3),
            )
        )
    return sorted(relations, key=lambda rel: (rel.schema, rel.name))


def _relation_parts(result: dict, node: dict) -> tuple[str, str, str]:
    """database, schema, name from the manifest node, else from run_results' relation_name."""
    if node.get("schema"):
        return node["database"], node["schema"], node.get("alias") or node["name"]
    relation_name = result.get("relation_name") or ""
    parts = [part.strip('"') for part in relation_name.split(".")]
    if len(parts) != 3:
        raise ValueError(f"Cannot tell where {result.get('unique_id')} lives: {relation_name!r}")
    return parts[0], parts[1], parts[2]
