"""DAG integrity: every DAG file imports cleanly, and each DAG keeps the house rules.

No database and no daemon: the files are parsed the way the DAG processor parses them (a
BundleDagBag over dags/), and the module-level code is checked for I/O by reading its AST.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import BundleDagBag
from airflow.sdk import CronDataIntervalTimetable

from conftest import DAGS, ROOT
from webshop.commands import FRESHNESS_STALE_EXIT

EXPECTED_TASKS = {
    "webshop_batch_dag": ["extract", "dbt_build", "dbt_source_freshness", "publish_assets"],
    "webshop_stream_dag": ["dbt_build", "publish_assets"],
    "webshop_maintenance_dag": ["delete_old_files", "airflow_db_clean"],
    "webshop_quality_dag": ["dbt_test"],
}
SKIPPING_TASKS = {("webshop_batch_dag", "dbt_source_freshness"): [FRESHNESS_STALE_EXIT]}
DBT_TASKS = {
    "webshop_batch_dag": {"dbt_build", "dbt_source_freshness"},
    "webshop_stream_dag": {"dbt_build"},
    "webshop_maintenance_dag": set(),
    "webshop_quality_dag": {"dbt_test"},
}


def test_every_dag_file_imports_without_errors(dagbag: BundleDagBag) -> None:
    # The bag refuses a DAG with a cycle (check_cycle while bagging): that is an import error.
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == set(EXPECTED_TASKS)


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_TASKS))
def test_tasks_run_in_the_expected_order(dagbag: BundleDagBag, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    order = [task.task_id for task in dag.topological_sort()]
    assert order == EXPECTED_TASKS[dag_id]
    # A chain, not just an order: each task feeds the next one directly.
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert downstream in dag.get_task(upstream).downstream_task_ids


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_TASKS))
def test_dag_keeps_the_house_rules(dagbag: BundleDagBag, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    assert dag.tags and "webshop" in dag.tags
    assert dag.doc_md and dag.doc_md.strip().startswith("###")
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    # A fixed start date, and a timetable that gives every run a real data interval.
    assert dag.start_date == datetime.fromisoformat("2026-11-01T00:00:00+00:00")
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    for task in dag.tasks:
        assert task.retries >= 1, f"{task.task_id} has no retries"
        assert task.retry_exponential_backoff > 1, f"{task.task_id} retries without back-off"
        assert task.on_failure_callback, f"{task.task_id} raises no alert on failure"
        assert task.owner == "data-platform"
        # Only the freshness check may turn an exit code into "skipped" (warn level).
        skips = SKIPPING_TASKS.get((dag_id, task.task_id), [])
        skip_codes = list(getattr(task, "skip_on_exit_code", None) or [])
        assert skip_codes == skips, f"{task.task_id} skips on exit codes {skip_codes}"


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_TASKS))
def test_dbt_runs_share_one_pool(dagbag: BundleDagBag, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    in_pool = {task.task_id for task in dag.tasks if task.pool == "dbt"}
    assert in_pool == DBT_TASKS[dag_id]


# --- no work at parse time ---------------------------------------------------------------------

# Calls that do I/O or read Airflow state; none may run while a DAG file is imported.
FORBIDDEN_AT_IMPORT = {
    "open",
    "get",
    "getenv",
    "run",
    "Popen",
    "check_output",
    "connect",
    "urlopen",
    "read_text",
    "read_bytes",
    "exists",
    "listdir",
    "iterdir",
    "glob",
    "sleep",
}
PARSE_TIME_MODULES = sorted(
    [*DAGS.glob("*.py"), *(DAGS / "webshop").glob("*.py")], key=lambda p: p.name
)


def _module_level_calls(tree: ast.Module) -> list[str]:
    """Names of calls executed at import: module statements, excluding function/class bodies."""
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            # decorators run at import, bodies do not
            for decorator in getattr(node, "decorator_list", []):
                visit(decorator)
            return
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            found.append(name)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


@pytest.mark.parametrize("path", PARSE_TIME_MODULES, ids=lambda p: str(p.relative_to(DAGS)))
def test_no_io_at_module_level(path: Path) -> None:
    tree = ast.parse(path.read_text())
    bad = sorted(set(_module_level_calls(tree)) & FORBIDDEN_AT_IMPORT)
    assert bad == [], f"{path.name} calls {bad} at import time"
    source = path.read_text()
    assert "Variable.get" not in source and "Connection.get" not in source


@pytest.mark.parametrize("path", PARSE_TIME_MODULES, ids=lambda p: str(p.relative_to(DAGS)))
def test_only_light_imports(path: Path) -> None:
    """Standard library, airflow and our own helpers: nothing heavy or networked at parse time."""
    allowed_roots = set(sys.stdlib_module_names) | {"airflow", "webshop", "__future__"}
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots = {(node.module or "").split(".")[0]}
        else:
            continue
        assert roots <= allowed_roots, (
            f"{path.name} imports {roots - allowed_roots} at module level"
        )


def test_dag_files_parse_without_the_stack_environment() -> None:
    """Parsing needs no stack variable (PG*, PROJECT_DIR, DBT_BIN): they are read at run time."""
    code = (
        "from pathlib import Path\n"
        "from airflow.dag_processing.dagbag import BundleDagBag\n"
        f"bag = BundleDagBag(dag_folder={str(DAGS)!r}, bundle_path=Path({str(DAGS)!r}),"
        " bundle_name='dags-folder')\n"
        "assert not bag.import_errors, bag.import_errors\n"
        "print(len(bag.dags))\n"
    )
    keep = (
        "PATH",
        "HOME",
        "AIRFLOW_HOME",
        "AIRFLOW__CORE__DAGS_FOLDER",
        "AIRFLOW__CORE__LOAD_EXAMPLES",
    )
    env = {key: os.environ[key] for key in keep if key in os.environ}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == str(len(EXPECTED_TASKS))


def test_ruff_is_clean() -> None:
    """Same settings as `make lint` (the nearest ruff.toml per file), plus the formatter."""
    ruff = str(Path(sys.executable).parent / "ruff")
    for args in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [ruff, *args, "dags", "tests/dags", "stack/airflow_api.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
