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
# The stream benchmark's cluster step runs first, in its own 3-node instance, alone on the
# machine; the main run reads its figures back for the summary line.
CLUSTER="python3 -m stack.stackctl --instance bench-cluster"
CLUSTER_FIGURES="$PWD/.bench/stream_cluster.json"
cluster_up=false
# Instances go down quietly (stderr), so a benchmark's summary stays the last line on stdout.
trap '$STACK down >&2; if $cluster_up; then $CLUSTER down >&2; fi' EXIT
for bench in "${selected[@]}"; do
  case "$bench" in
    extract | dbt | stream | stream_history) ;;
    *) echo "[bench] unknown benchmark: $bench (extract, dbt, stream, stream_history)" >&2; exit 2 ;;
  esac
done
if [[ " ${selected[*]} " == *" stream "* ]]; then
  echo "[bench] ===== stream: cluster step (instance bench-cluster) ====="
  mkdir -p .bench
  rm -f "$CLUSTER_FIGURES"
  cluster_up=true
  # A failure here leaves no figures; the main run then says why the cluster p99 is missing.
  if $CLUSTER up; then
    $CLUSTER exec -- deno task -q bench:stream --cluster-only --out "$CLUSTER_FIGURES" ||
      echo "[bench] the cluster step failed" >&2
  else
    echo "[bench] the bench-cluster instance did not come up" >&2
  fi
  $CLUSTER down >&2
  cluster_up=false
fi
$STACK up
for bench in "${selected[@]}"; do
  echo "[bench] ===== $bench ====="
  if [[ "$bench" == stream ]]; then
    $STACK exec -- deno task -q bench:stream --cluster-result "$CLUSTER_FIGURES"
  else
    $STACK exec -- deno task -q "bench:$bench"
  fi
done
