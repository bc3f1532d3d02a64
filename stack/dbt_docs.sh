#!/usr/bin/env bash
# `make docs`: generate the dbt docs site (models, columns, tests, exposures and the lineage
# graph from the raw tables to the analysis views) and serve it on 127.0.0.1:$DBT_DOCS_PORT
# until interrupted. Generating reads the warehouse's catalog, so run `make transform` first.
# Runs inside `python3 -m stack.stackctl exec` (dbt on PATH, DBT_PROFILES_DIR = the repo root, PG* set).
set -euo pipefail
cd "$(dirname "$0")/.."
dbt="${DBT_BIN:-dbt}"
port="${DBT_DOCS_PORT:-8081}"
"$dbt" docs generate
echo "dbt docs: http://127.0.0.1:${port} (Ctrl-C to stop)"
exec "$dbt" docs serve --host 127.0.0.1 --port "$port" --no-browser
