#!/usr/bin/env bash
# `make transform` and `make full-refresh`: build every dbt model with its tests (contracts,
# data tests, unit tests, the reconciliation), then check source freshness as its own command
# (warn-level thresholds: a stale source is reported, it does not fail the run). No selector and
# no interval vars: a full run, so every data test reads the whole history and the full-history
# tests run too (docs/decisions/0038).
#
#   bash stack/dbt_transform.sh                  # dbt build; dbt source freshness
#   bash stack/dbt_transform.sh --full-refresh   # rebuild incremental models from raw too
#   bash stack/dbt_transform.sh --selector batch # anything else is passed to `dbt build`
#
# Runs inside `python3 -m stack.stackctl exec` (dbt on PATH, DBT_PROFILES_DIR = the repo root, PG* set).
# dbt connects as the transformer role (profiles.yml).
set -euo pipefail
cd "$(dirname "$0")/.."
dbt="${DBT_BIN:-dbt}"
"$dbt" build "$@"
"$dbt" source freshness
