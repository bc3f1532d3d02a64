"""Bash commands the DAGs launch, and where each dbt invocation keeps its artifacts.

Executables are resolved when the task runs, the same way natively and in the compose image:
`DENO_BIN` / `DBT_BIN` / `AIRFLOW_BIN` if set (the native stack manager exports them), else the
name on `PATH` (the image installs them there). The project directory is `PROJECT_DIR` if set,
else the parent of `dags/` (the repository root, natively and in the image alike).

Everything here only builds strings or reads the environment: nothing runs at DAG parse time.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# The repository root as seen from this file (dags/webshop/commands.py): a path computation,
# not I/O, so it is safe at import time.
DEFAULT_PROJECT_DIR = str(Path(os.path.abspath(__file__)).parents[2])

# Every bash task starts with this: fail on errors and unset variables, run from the project.
_PRELUDE = f"""set -euo pipefail
project_dir="${{PROJECT_DIR:-{DEFAULT_PROJECT_DIR}}}"
cd "$project_dir"
"""

# Every database credential a task may inherit from the scheduler. A job's processes keep only
# the one of the role their job needs: the rest are unset before the job starts.
CREDENTIAL_VARIABLES = (
    "POSTGRES_PASSWORD",
    "PGPASSWORD",
    "LOADER_PASSWORD",
    "TRANSFORMER_PASSWORD",
    "ANALYST_PASSWORD",
    "AIRFLOW_DB_PASSWORD",
    "AIRFLOW_METADATA_CONN",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
)


def _keep_only_credential(keep: str) -> str:
    """A shell line unsetting every credential variable except `keep`."""
    others = " ".join(name for name in CREDENTIAL_VARIABLES if name != keep)
    return f"unset {others}\n"


# dbt's own settings, pinned for non-interactive runs (no colours in task logs, no telemetry).
_DBT_ENV = """export DBT_PROFILES_DIR="${DBT_PROFILES_DIR:-$project_dir}"
export DBT_USE_COLORS=false DBT_SEND_ANONYMOUS_USAGE_STATS=false DBT_VERSION_CHECK=false
"""

# The interval as dbt variables: ISO-8601 timestamps in UTC, half-open [start, end).
DBT_INTERVAL_VARS = (
    '{"interval_start": "{{ data_interval_start | ts }}", '
    '"interval_end": "{{ data_interval_end | ts }}"}'
)


def dbt_runs_root() -> Path:
    """Root folder of per-run dbt artifacts: `DBT_RUNS_DIR`, else `$AIRFLOW_HOME/dbt-runs`."""
    configured = os.environ.get("DBT_RUNS_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("AIRFLOW_HOME", "/tmp/airflow")) / "dbt-runs"


def dbt_run_dir(dag_id: str, run_id: str, task_id: str) -> str:
    """The folder of one dbt invocation (target/ and logs/), unique per DAG run and task."""
    safe_run_id = re.sub(r"[^A-Za-z0-9._-]+", "_", run_id)
    return str(dbt_runs_root() / dag_id / safe_run_id / task_id)


# Template snippets (dbt_run_dir and dbt_runs_root are DAG macros: see webshop.defaults).
_RUN_DIR = "{{ dbt_run_dir(dag.dag_id, run_id, task.task_id) }}"
_PARSE_CACHE = "{{ dbt_runs_root() }}/.partial-parse/manifest.msgpack"


def extract_command() -> str:
    """The Deno extractor for the run's data interval, as the loader role (dates in UTC)."""
    return (
        _PRELUDE
        + 'export PGUSER=loader PGPASSWORD="${LOADER_PASSWORD:?LOADER_PASSWORD is not set}"\n'
        + _keep_only_credential("PGPASSWORD")
        + 'exec "${DENO_BIN:-deno}" task extract'
        + " --start {{ data_interval_start | ds }} --end {{ data_interval_end | ds }}\n"
    )


def _dbt(args: str, *, reuse_parse: bool, on_exit: str = "") -> str:
    """One dbt invocation in its own run folder; `on_exit` may map dbt's exit code in `rc`.

    A fresh target path per run means no partial parse, so parsing the project costs seconds
    on every run. Invocations without --vars (vars changes force a full parse anyway) share
    dbt's partial-parse file through a cache beside the run folders; dbt itself decides
    whether it is still valid (project files, profile, vars), so a stale copy is harmless.
    """
    seed = save = ""
    if reuse_parse:
        seed = (
            f'cache="{_PARSE_CACHE}"\n'
            + 'if [ -f "$cache" ]; then cp "$cache" "$run_dir/target/partial_parse.msgpack"; fi\n'
        )
        save = (
            'if [ -f "$run_dir/target/partial_parse.msgpack" ]; then\n'
            + '  mkdir -p "$(dirname "$cache")"\n'
            + '  cp "$run_dir/target/partial_parse.msgpack" "$cache.$$"\n'
            + '  mv -f "$cache.$$" "$cache"\n'
            + "fi\n"
        )
    return (
        _PRELUDE
        + _DBT_ENV
        + _keep_only_credential("TRANSFORMER_PASSWORD")
        + f'run_dir="{_RUN_DIR}"\n'
        + 'mkdir -p "$run_dir/target" "$run_dir/logs"\n'
        + seed
        + "rc=0\n"
        + f'"${{DBT_BIN:-dbt}}" {args} --project-dir "$project_dir"'
        + ' --target-path "$run_dir/target" --log-path "$run_dir/logs" || rc=$?\n'
        + save
        + on_exit
        + 'exit "$rc"\n'
    )


def dbt_build_command(selector: str, *, with_interval: bool) -> str:
    """`dbt build --selector <name>` (selectors.yml) into a per-run target/log path.

    A failing model or dbt test makes dbt exit non-zero, which fails the task and the run.
    """
    if with_interval:
        return _dbt(f"build --selector {selector} --vars '{DBT_INTERVAL_VARS}'", reuse_parse=False)
    return _dbt(f"build --selector {selector}", reuse_parse=True)


def dbt_test_command(selector: str) -> str:
    """`dbt test --selector <name>` without interval vars: every test reads the whole history.

    A failing test makes dbt exit non-zero, which fails the task (docs/decisions/0038).
    """
    return _dbt(f"test --selector {selector}", reuse_parse=True)


# Exit code that BashOperator turns into "skipped" (its skip_on_exit_code).
FRESHNESS_STALE_EXIT = 99


def dbt_freshness_command() -> str:
    """`dbt source freshness`, warn-level: stale sources skip the task, dbt errors fail it.

    dbt exits 1 both for an error-level stale source and for a source it could not query, so
    the results file decides: only "error" statuses (no "runtime error") count as stale.
    """
    stale_is_a_warning = (
        'results="$run_dir/target/sources.json"\n'
        + 'if [ "$rc" -eq 1 ] && [ -f "$results" ] \\\n'
        + '    && grep -Eq \'"status": ?"error"\' "$results" \\\n'
        + '    && ! grep -Eq \'"status": ?"runtime error"\' "$results"; then\n'
        + '  echo "WARNING: a source is past its freshness threshold (see above);'
        + ' the run goes on"\n'
        + f"  rc={FRESHNESS_STALE_EXIT}\n"
        + "fi\n"
    )
    return _dbt(
        'source freshness --output "$run_dir/target/sources.json"',
        reuse_parse=True,
        on_exit=stale_is_a_warning,
    )


def airflow_db_clean_command(retention_days_env: str = "AIRFLOW_RETENTION_DAYS") -> str:
    """`airflow db clean` of metadata older than the retention (default 30 days), no archive.

    Airflow 3 hides its metadata database from tasks (the task supervisor overwrites
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN). This one task is the deliberate exception: the
    deployment grants it the URL in AIRFLOW_METADATA_CONN; without it the task fails loudly.
    """
    return (
        _PRELUDE
        + f'days="${{{retention_days_env}:-30}}"\n'
        + 'conn="${AIRFLOW_METADATA_CONN:?AIRFLOW_METADATA_CONN is not set: the deployment must'
        + ' grant this task the metadata database URL}"\n'
        + 'cutoff="$(date -u -d "{{ data_interval_end | ts }} - ${days} days"'
        + ' +%Y-%m-%dT%H:%M:%S+00:00)"\n'
        + 'echo "Purging Airflow metadata older than $cutoff"\n'
        + 'export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="$conn"\n'
        + "unset AIRFLOW__CORE__SQL_ALCHEMY_CONN\n"
        + 'exec "${AIRFLOW_BIN:-airflow}" db clean --clean-before-timestamp "$cutoff"'
        + " --skip-archive --yes\n"
    )


def delete_old_files_command(retention_days_env: str = "AIRFLOW_RETENTION_DAYS") -> str:
    """Delete task logs and per-run dbt folders older than the retention (default 30 days)."""
    return (
        _PRELUDE
        + f'days="${{{retention_days_env}:-30}}"\n'
        + 'logs="${AIRFLOW__LOGGING__BASE_LOG_FOLDER:-${AIRFLOW_HOME:-/tmp/airflow}/logs}"\n'
        + 'runs="{{ dbt_runs_root() }}"\n'
        + 'for dir in "$logs" "$runs"; do\n'
        + '  [ -d "$dir" ] || continue\n'
        + '  echo "Deleting files older than ${days} days under $dir"\n'
        + '  deleted="$(find "$dir" -type f -mtime "+${days}" -print -delete | wc -l)"\n'
        + '  echo "  ${deleted} files deleted"\n'
        + '  find "$dir" -mindepth 1 -type d -empty -delete\n'
        + "done\n"
    )
