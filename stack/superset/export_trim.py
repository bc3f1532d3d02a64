"""Writes a Superset dashboard export over dashboards/, trimmed to the committed form.

A UI change reaches the files through this script (docs/operations.md, "Change a dashboard as
code"). It reads the zip from `GET /api/v1/dashboard/export/` or the UI's Export and writes each
chart, dataset and dashboard over the committed file with the same uuid. A new object gets a new
file named after it. The files are trimmed to how they are committed, so `git diff dashboards/`
shows only what was changed in the UI:
  - the instance's ids become placeholders, because the import maps everything by uuid. That
    covers `0__table` and id 0 for a chart's dataset, and, in the dashboard, each chart's
    committed `chartId` (also in the native filters' scopes and the chart configuration);
  - a chart's `query_context` becomes JSON with sorted keys, one key per line;
  - a dataset's columns and metrics keep the committed order (Superset exports its own);
  - `metadata.yaml` (`type: assets`) and `databases/` are not touched: the export says `type:
    Dashboard` and carries this instance's port, while the committed connection carries the
    password mask and the importer fills in the rest.
Run it with the superset virtualenv's Python (PyYAML):

    "$SUPERSET_VENV/bin/python" stack/superset/export_trim.py EXPORT.zip [DASHBOARDS_DIR]
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

import yaml

DATASET_PLACEHOLDER = "0__table"
# Dropped from a chart's saved form data: they name the instance's ids and the page it was saved
# from, not the chart.
FORM_DATA_INSTANCE_KEYS = ("slice_id", "url_params", "dashboardId")
KINDS = ("charts", "datasets", "dashboards")


def trim_chart(chart: dict[str, Any]) -> dict[str, Any]:
    """A chart with placeholder dataset ids and its query_context as sorted, one-key-a-line JSON."""
    trimmed = dict(chart)
    trimmed["params"] = {**chart.get("params", {}), "datasource": DATASET_PLACEHOLDER}
    raw = chart.get("query_context")
    if raw:
        context = json.loads(raw)
        context["datasource"] = {"id": 0, "type": "table"}
        form_data = context.get("form_data", {})
        for key in FORM_DATA_INSTANCE_KEYS:
            form_data.pop(key, None)
        form_data["datasource"] = DATASET_PLACEHOLDER
        for query in context.get("queries", []):
            query["url_params"] = {}
        trimmed["query_context"] = json.dumps(context, sort_keys=True, indent=1) + "\n"
    return trimmed


def chart_ids(dashboard: dict[str, Any]) -> dict[int, str]:
    """The chart id -> chart uuid map of a dashboard's layout (its CHART nodes)."""
    return {
        node["meta"]["chartId"]: node["meta"]["uuid"]
        for node in dashboard.get("position", {}).values()
        if isinstance(node, dict) and node.get("type") == "CHART"
    }


def placeholder_ids(exported: dict[int, str], committed: dict[int, str]) -> dict[int, int]:
    """Each exported chart id -> the committed placeholder of the same uuid, or a new one."""
    by_uuid = {uuid: chart_id for chart_id, uuid in committed.items()}
    used = set(committed)
    mapping: dict[int, int] = {}
    for chart_id, uuid in sorted(exported.items()):
        if uuid in by_uuid:
            mapping[chart_id] = by_uuid[uuid]
        else:
            mapping[chart_id] = max(used | set(mapping.values()), default=0) + 1
    return mapping


def trim_dashboard(dashboard: dict[str, Any], committed: dict[str, Any] | None) -> dict[str, Any]:
    """A dashboard whose chart ids are the committed placeholders, wherever the export uses them."""
    mapping = placeholder_ids(chart_ids(dashboard), chart_ids(committed or {}))

    def new_id(value: Any) -> Any:
        return mapping.get(value, value) if isinstance(value, int) else value

    trimmed = json.loads(json.dumps(dashboard))  # a deep copy
    for node in trimmed.get("position", {}).values():
        if isinstance(node, dict) and node.get("type") == "CHART":
            node["meta"]["chartId"] = new_id(node["meta"]["chartId"])
    metadata = trimmed.get("metadata", {})
    for native in metadata.get("native_filter_configuration", []):
        scope = native.get("scope", {})
        if "excluded" in scope:
            scope["excluded"] = sorted(new_id(chart) for chart in scope["excluded"])
        if "chartsInScope" in native:
            native["chartsInScope"] = sorted(new_id(chart) for chart in native["chartsInScope"])
    if "timed_refresh_immune_slices" in metadata:
        metadata["timed_refresh_immune_slices"] = [
            new_id(chart) for chart in metadata["timed_refresh_immune_slices"]
        ]
    for key in ("chart_configuration", "expanded_slices"):
        if isinstance(metadata.get(key), dict):
            metadata[key] = {
                str(new_id(int(chart))) if str(chart).isdigit() else chart: value
                for chart, value in metadata[key].items()
            }
    for config in (metadata.get("chart_configuration") or {}).values():
        if isinstance(config, dict) and "id" in config:
            config["id"] = new_id(config["id"])
        scope = (config.get("crossFilters") or {}) if isinstance(config, dict) else {}
        if "chartsInScope" in scope:
            scope["chartsInScope"] = sorted(new_id(chart) for chart in scope["chartsInScope"])
    return trimmed


def in_committed_order(exported: list[Any], committed: list[Any], key: str) -> list[Any]:
    """`exported` sorted as `committed` lists the same `key`s; new entries last, as exported."""
    rank = {item.get(key): index for index, item in enumerate(committed)}
    return sorted(exported, key=lambda item: rank.get(item.get(key), len(rank)))


def trim_dataset(dataset: dict[str, Any], committed: dict[str, Any] | None) -> dict[str, Any]:
    """A dataset with its columns and metrics in the committed order (Superset exports its own)."""
    trimmed = dict(dataset)
    for field, key in (("columns", "column_name"), ("metrics", "metric_name")):
        trimmed[field] = in_committed_order(
            dataset.get(field) or [], (committed or {}).get(field) or [], key
        )
    return trimmed


def target_name(kind: str, exported: str) -> str:
    """The file a new object gets: its exported name without the instance's `_<id>` suffix."""
    stem = re.sub(r"_\d+$", "", Path(exported).stem).lower()
    stem = re.sub(r"[^a-z0-9]+", "_", stem).strip("_")
    return (
        str(Path(exported).parent / f"{stem}.yaml") if kind == "datasets" else f"{kind}/{stem}.yaml"
    )


class _Dumper(yaml.SafeDumper):
    """The committed files' style: multi-line strings (query contexts) as literal blocks."""


_Dumper.add_representer(
    str,
    lambda dumper, data: dumper.represent_scalar(
        "tag:yaml.org,2002:str", data, style="|" if "\n" in data else None
    ),
)


def dump(document: dict[str, Any]) -> str:
    """A document as the bundle's files are written."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True)


def header(path: Path) -> str:
    """The comment lines a committed file starts with (kept when it is overwritten)."""
    if not path.exists():
        return ""
    lines = path.read_text().splitlines(keepends=True)
    return "".join(
        line
        for line in lines[
            : next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
        ]
    )


def committed_files(root: Path) -> dict[str, Path]:
    """Committed uuid -> file, for every chart, dataset and dashboard under `root`."""
    found: dict[str, Path] = {}
    for kind in KINDS:
        for path in sorted((root / kind).rglob("*.yaml")):
            uuid = (yaml.safe_load(path.read_text()) or {}).get("uuid")
            if uuid:
                found[uuid] = path
    return found


def apply_export(archive: Path, root: Path) -> list[Path]:
    """Writes the export's charts, datasets and dashboards over `root`; the files written."""
    committed = committed_files(root)
    written: list[Path] = []
    with zipfile.ZipFile(archive) as bundle:
        for member in sorted(bundle.namelist()):
            parts = Path(member).parts
            if len(parts) < 3 or parts[1] not in KINDS or not member.endswith(".yaml"):
                continue
            kind, relative = parts[1], str(Path(*parts[1:]))
            document = yaml.safe_load(bundle.read(member))
            target = committed.get(document["uuid"]) or root / target_name(kind, relative)
            before = yaml.safe_load(target.read_text()) if target.exists() else None
            if kind == "charts":
                document = trim_chart(document)
            elif kind == "datasets":
                document = trim_dataset(document, before)
            else:
                document = trim_dashboard(document, before)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(header(target) + dump(document))
            written.append(target)
    return written


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("Usage: export_trim.py EXPORT.zip [DASHBOARDS_DIR]")
    project = Path(__file__).resolve().parents[2]
    target_root = Path(sys.argv[2]) if len(sys.argv) == 3 else project / "dashboards"
    for path in apply_export(Path(sys.argv[1]), target_root):
        print(f"wrote {path}")
