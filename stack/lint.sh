#!/usr/bin/env bash
# `make lint`: every static check, none of which needs a running service.
#   Deno:  `deno task ok`: fmt --check, lint, check (strict compiler settings from deno.json) and
#          the unit tests beside the code (workers/**/*_test.ts), none of which needs a service
#   SQL:   sqlfluff (postgres dialect, jinja templater) on models/, macros/, dbt_tests/, db/
#   Python: ruff on dags/ and stack/ and tests/dags/
set -euo pipefail
cd "$(dirname "$0")/.."
STACK="python3 -m stack.stackctl"
$STACK install deno dbt airflow >/dev/null
run() { echo "[lint] $*"; $STACK exec -- "$@"; }
run deno task ok
sql_dirs=()
for d in models macros dbt_tests db; do
  if compgen -G "$d/**/*.sql" >/dev/null || compgen -G "$d/*.sql" >/dev/null; then sql_dirs+=("$d"); fi
done
if ((${#sql_dirs[@]})); then
  run sqlfluff lint --disable-progress-bar "${sql_dirs[@]}"
fi
py_dirs=(stack)
[[ -d dags ]] && py_dirs+=(dags)
[[ -d tests/dags ]] && py_dirs+=(tests/dags)
run bash -c "\"\$AIRFLOW_VENV/bin/ruff\" check ${py_dirs[*]}"
echo "[lint] all checks passed"
