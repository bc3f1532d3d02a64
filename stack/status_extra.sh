#!/usr/bin/env bash
# `make status`, pipeline part: run by the stack manager (stack/stackctl/cli.py) after the
# service table, with the instance environment. Prints, without failing `status` when a part
# is down:
#   - the last batch (and stream) DAG run and its state          (Airflow REST API)
#   - freshness per source: age of the newest landed row, and dbt's verdict from the last
#     `dbt source freshness` task                                 (warehouse + task artifacts)
#   - dead-letter depth: dead letters not yet replayed, per error class
#   - the last reconciliation result: the reconciliation tests of the last batch dbt build
#   - the streaming consumer's own status (deno task stream:status), when it exists
# and before them the Kafka nodes, the controller quorum and under-replicated partitions
# (stack/kafka_status.ts).
set -uo pipefail
cd "$(dirname "$0")/.."

# --- Kafka ------------------------------------------------------------------------------------
echo
kafka_status="$(timeout 30 "${DENO_BIN:-deno}" run --allow-net --allow-env --allow-run=java \
  --allow-sys stack/kafka_status.ts 2>/dev/null)"
printf '%s\n' "${kafka_status:-kafka (status unavailable)}"

echo
echo "pipeline"

# --- Airflow --------------------------------------------------------------------------------
if curl --fail --silent --max-time 3 "http://127.0.0.1:${AIRFLOW_PORT}/api/v2/monitor/health" \
    >/dev/null 2>&1; then
  for kind in batch stream; do
    dag="webshop_${kind}_dag"
    printf '  %-20s %s\n' "last ${kind} run" \
      "$(python3 stack/airflow_api.py last-run "$dag" 2>&1 | sed "s/^${dag}: //")"
  done
else
  printf '  %-20s %s\n' "last batch run" "Airflow is not running (make up starts it)"
fi

# --- warehouse ------------------------------------------------------------------------------
sql() {
  PGCONNECT_TIMEOUT=3 psql -X -q -At -F $'\t' -h 127.0.0.1 -p "${PGPORT}" \
    -U "${POSTGRES_USER}" -d "${WAREHOUSE_DB}" -v ON_ERROR_STOP=1 -c "$1" 2>/dev/null
}
export PGPASSWORD="${POSTGRES_PASSWORD}"
if ! sql "select 1" >/dev/null; then
  printf '  %-20s %s\n' "warehouse" "unreachable (database ${WAREHOUSE_DB} on port ${PGPORT})"
  exit 0
fi

# dbt's verdict: sources.json of the newest freshness task of the batch DAG.
runs_dir="${DBT_RUNS_DIR:-${STATE_DIR}/airflow/dbt-runs}"
verdicts="$(python3 - "$runs_dir" <<'PY'
import json, sys
from pathlib import Path
files = sorted(Path(sys.argv[1]).glob("webshop_batch_dag/*/dbt_source_freshness/target/sources.json"),
               key=lambda p: p.stat().st_mtime)
if files:
    data = json.loads(files[-1].read_text())
    checked = data.get("metadata", {}).get("generated_at", "")[:16].replace("T", " ")
    for result in data.get("results", []):
        name = ".".join(result.get("unique_id", "").split(".")[-2:])
        print(f"{name}\t{result.get('status')}\t{checked}")
PY
)"

printf '  %-20s %s\n' "freshness" "source: newest row (age) | dbt's last verdict"
while IFS=$'\t' read -r source newest age; do
  [ -n "$source" ] || continue
  verdict="$(printf '%s\n' "$verdicts" | awk -F'\t' -v s="$source" '$1 == s {print $2 " at " $3}')"
  printf '    %-26s %-20s %-14s %s\n' "$source" "${newest:-never}" "${age:+($age)}" \
    "${verdict:-no dbt check yet}"
done < <(sql "
  with newest as (
    (select 'fakestore.' || entity as source, max(responses.extracted_at) as at
     from (values ('products'), ('users')) as entities (entity)
     left join raw.fakestore_responses as responses using (entity)
     group by entity order by entity)
    union all select 'fakestore.carts', max(extracted_at) from raw.fakestore_carts
    union all select 'audit.extract_runs', max(finished_at) from audit.extract_runs
    union all select 'kafka.order_events', max(landed_at) from raw.order_events
  )
  select source, to_char(at at time zone 'UTC', 'YYYY-MM-DD HH24:MI'),
         case when at is null then null
              else justify_interval(date_trunc('second', now() - at))::text end
  from newest")

dead="$(sql "select coalesce(string_agg(error_class || ' ' || n, ', ' order by error_class), 'none')
             from (select error_class, count(*) as n from raw.order_events_dead_letters
                   where replayed_at is null group by error_class) pending")"
printf '  %-20s %s\n' "dead letters" "${dead:-unknown} (pending replay; make dlq-replay)"

# Reconciliation: the tests named *reconcil* in the newest batch build's run results.
reconciliation="$(python3 - "$runs_dir" <<'PY'
import json, sys
from pathlib import Path
files = sorted(Path(sys.argv[1]).glob("webshop_batch_dag/*/dbt_build/target/run_results.json"),
               key=lambda p: p.stat().st_mtime)
if not files:
    print("no batch build yet")
    sys.exit()
data = json.loads(files[-1].read_text())
when = data.get("metadata", {}).get("generated_at", "")[:16].replace("T", " ")
found = [r for r in data.get("results", []) if "reconcil" in r.get("unique_id", "")]
if not found:
    print(f"no reconciliation test in the build of {when}")
for result in found:
    name = result["unique_id"].split(".")[2]
    failures = result.get("failures")
    detail = f", {failures} failing rows" if failures else ""
    print(f"{result.get('status')}{detail}: {name} (build of {when} UTC)")
PY
)"
printf '  %-20s %s\n' "reconciliation" "$(printf '%s' "$reconciliation" | head -n 1)"
printf '%s\n' "$reconciliation" | tail -n +2 | sed 's/^/                         /'

# --- streaming consumer -----------------------------------------------------------------------
if grep -q '"stream:status"' deno.json 2>/dev/null; then
  echo
  echo "stream"
  # Exit 1 also means "printed a problem" (unreachable, offset beyond the log end): the table
  # is shown either way; only no output at all is "unavailable".
  stream_status="$(timeout 20 "${DENO_BIN:-deno}" task -q stream:status 2>/dev/null)"
  if [[ -n "$stream_status" ]]; then
    printf '%s\n' "$stream_status" | sed 's/^/  /'
  else
    echo "  (stream status unavailable: is Kafka up?)"
  fi
fi
exit 0
