#!/usr/bin/env bash
# `make bench [BENCH=extract|dbt|stream|stream_history]`: the benchmarks, each printing its
# figures beside a baseline measured in the same run (`psql \copy` of the same rows, a full
# build, or the same measure at a smaller history). They run in the isolated `bench` instance
# (stack/instances/bench.env), so a running dev stack and test runs are never disturbed.
# Figures and the machine they came from: docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
selected=("${@:-extract dbt stream stream_history}")
read -r -a selected <<<"${selected[*]}"
STACK="python3 -m stack.stackctl --instance bench"
$STACK up
trap '$STACK down' EXIT
for bench in "${selected[@]}"; do
  case "$bench" in
    extract | dbt | stream | stream_history) ;;
    *) echo "[bench] unknown benchmark: $bench (extract, dbt, stream, stream_history)" >&2; exit 2 ;;
  esac
  echo "[bench] ===== $bench ====="
  $STACK exec -- deno task -q "bench:$bench"
done
