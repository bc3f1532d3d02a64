"""The export trimming: placeholder ids, committed order and files, found by uuid."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import yaml
from export_trim import (
    apply_export,
    placeholder_ids,
    target_name,
    trim_chart,
    trim_dashboard,
    trim_dataset,
)

CONTEXT = {
    "datasource": {"id": 7, "type": "table"},
    "form_data": {
        "datasource": "7__table",
        "slice_id": 12,
        "dashboardId": 1,
        "url_params": {"a": 1},
    },
    "queries": [{"url_params": {"a": 1}, "row_limit": 10}],
}


def chart(uuid: str, name: str, context: dict | None = None) -> dict:
    return {
        "slice_name": name,
        "params": {"datasource": "7__table", "viz_type": "table"},
        "query_context": json.dumps(context) if context else None,
        "uuid": uuid,
    }


def test_a_chart_gets_placeholder_ids_and_a_sorted_query_context() -> None:
    trimmed = trim_chart(chart("u1", "Top", CONTEXT))
    assert trimmed["params"]["datasource"] == "0__table"
    context = json.loads(trimmed["query_context"])
    assert context["datasource"] == {"id": 0, "type": "table"}
    assert context["form_data"] == {"datasource": "0__table"}
    assert context["queries"] == [{"row_limit": 10, "url_params": {}}]
    assert trimmed["query_context"] == json.dumps(context, sort_keys=True, indent=1) + "\n"
    assert trim_chart(chart("u2", "No context"))["query_context"] is None


def test_chart_ids_map_to_the_committed_placeholders_by_uuid_and_new_ones_follow() -> None:
    exported = {11: "u1", 12: "u2", 13: "u3"}
    committed = {1: "u2", 2: "u1"}
    assert placeholder_ids(exported, committed) == {11: 2, 12: 1, 13: 3}


def node(chart_id: int, uuid: str) -> dict:
    return {"type": "CHART", "meta": {"chartId": chart_id, "uuid": uuid}}


def test_a_dashboard_uses_the_placeholders_in_layout_filters_and_chart_configuration() -> None:
    exported = {
        "position": {"CHART-a": node(11, "u1"), "CHART-b": node(12, "u2"), "ROOT_ID": {}},
        "metadata": {
            "native_filter_configuration": [
                {"scope": {"excluded": [12]}, "chartsInScope": [11]},
            ],
            "chart_configuration": {
                "11": {"id": 11, "crossFilters": {"chartsInScope": [12]}},
            },
            "timed_refresh_immune_slices": [12],
        },
    }
    committed = {"position": {"CHART-a": node(1, "u1"), "CHART-b": node(2, "u2")}}
    trimmed = trim_dashboard(exported, committed)
    assert trimmed["position"]["CHART-a"]["meta"]["chartId"] == 1
    assert trimmed["position"]["CHART-b"]["meta"]["chartId"] == 2
    native = trimmed["metadata"]["native_filter_configuration"][0]
    assert native["scope"]["excluded"] == [2]
    assert native["chartsInScope"] == [1]
    assert trimmed["metadata"]["chart_configuration"] == {
        "1": {"id": 1, "crossFilters": {"chartsInScope": [2]}}
    }
    assert trimmed["metadata"]["timed_refresh_immune_slices"] == [2]
    assert exported["position"]["CHART-a"]["meta"]["chartId"] == 11, "the export is not changed"


def test_a_dataset_keeps_the_committed_order_of_columns_and_metrics() -> None:
    exported = {
        "columns": [{"column_name": "b"}, {"column_name": "new"}, {"column_name": "a"}],
        "metrics": [{"metric_name": "count"}],
    }
    committed = {"columns": [{"column_name": "a"}, {"column_name": "b"}]}
    trimmed = trim_dataset(exported, committed)
    assert [c["column_name"] for c in trimmed["columns"]] == ["a", "b", "new"]
    assert trimmed["metrics"] == [{"metric_name": "count"}]


def test_a_new_object_is_named_after_its_export_without_the_instance_id() -> None:
    assert target_name("charts", "charts/Top_10_products_7.yaml") == "charts/top_10_products.yaml"
    assert (
        target_name("datasets", "datasets/warehouse/daily_order_trend_1.yaml")
        == "datasets/warehouse/daily_order_trend.yaml"
    )


def test_an_export_overwrites_the_files_of_the_same_uuid_and_leaves_the_rest(
    tmp_path: Path,
) -> None:
    root = tmp_path / "dashboards"
    (root / "charts").mkdir(parents=True)
    (root / "databases").mkdir()
    committed = root / "charts" / "top_products.yaml"
    committed.write_text("# kept header\n" + yaml.safe_dump(chart("u1", "Old name")))
    database = root / "databases" / "warehouse.yaml"
    database.write_text(
        "sqlalchemy_uri: postgresql+psycopg2://analyst:XXXXXXXXXX@127.0.0.1:5432/w\n"
    )
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        top = "dashboard_export_20261128T000000"
        bundle.writestr(f"{top}/metadata.yaml", "version: 1.0.0\ntype: Dashboard\n")
        bundle.writestr(f"{top}/databases/warehouse.yaml", "sqlalchemy_uri: other:25432\n")
        bundle.writestr(
            f"{top}/charts/Top_products_7.yaml", yaml.safe_dump(chart("u1", "New name"))
        )
        bundle.writestr(f"{top}/charts/Brand_new_9.yaml", yaml.safe_dump(chart("u9", "Brand new")))
    written = apply_export(archive, root)
    assert written == [root / "charts" / "brand_new.yaml", committed]
    assert committed.read_text().startswith("# kept header\n")
    assert yaml.safe_load(committed.read_text())["slice_name"] == "New name"
    assert yaml.safe_load(committed.read_text())["params"]["datasource"] == "0__table"
    assert "analyst:XXXXXXXXXX@127.0.0.1:5432" in database.read_text()
    assert not (root / "metadata.yaml").exists()
