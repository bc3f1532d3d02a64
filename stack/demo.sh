#!/usr/bin/env bash
# `make demo`: the whole pipeline, end to end, on this machine (no Docker).
#
#   1. installs what is missing and starts the stack (stack.stackctl up) but Superset:
#      PostgreSQL, Kafka, the Fake Store server, the event simulator and consumer, Airflow (API
#      server, DAG processor, scheduler)
#   2. waits until Airflow has parsed the DAGs
#   3. runs webshop_batch_dag through Airflow's scheduler for the last DEMO_DAYS days (a
#      backfill that reprocesses days already run, so a second demo works the same) and, at
#      the same time, prepares and starts Superset (metadata database, dashboards/ import)
#   4. lets the simulator stream order events for about DEMO_STREAM_S seconds
#   5. runs webshop_stream_dag once (and leaves both DAGs switched on)
#   6. prints the analyses (top revenue, purchases per user, daily trend) as tables
#   7. says where to look next
#
# Every step shows its progress; a failing step stops the demo with its log tail.
# Settings: DEMO_DAYS (default 4), DEMO_STREAM_S (30); STACK_INSTANCE picks the instance
# (default dev; the `demo` test suite runs it in the isolated `demo` instance).
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_DAYS="${DEMO_DAYS:-4}"
DEMO_STREAM_S="${DEMO_STREAM_S:-30}"
STACK=(python3 -m stack.stackctl)
TOTAL=7
STEP=0
STEP_TITLE=""
STARTED=$SECONDS

# The instance environment (ports, passwords, database, tool paths) for everything below.
eval "$("${STACK[@]}" env)"
LOG="${STATE_DIR}/logs/demo.log"
STEP_LOG="${STATE_DIR}/logs/demo-step.log"
mkdir -p "$(dirname "$LOG")"
: >"$LOG"

step() {
  STEP=$((STEP + 1))
  STEP_TITLE="$1"
  : >"$STEP_LOG"
  printf '\n[demo %d/%d] %s  (%ds)\n' "$STEP" "$TOTAL" "$STEP_TITLE" "$((SECONDS - STARTED))"
}

fail() {
  printf '\n[demo] FAILED at step %d/%d (%s): %s\n' "$STEP" "$TOTAL" "$STEP_TITLE" "$1" >&2
  printf -- '----- log tail (%s) -----\n' "$STEP_LOG" >&2
  tail -n 40 "$STEP_LOG" >&2 || true
  printf -- '-----\nFull demo log: %s; service logs: make logs (SERVICE=name)\n' "$LOG" >&2
  exit 1
}

# Runs a command, showing its output indented and keeping it in the step and demo logs.
run() {
  local rc
  set +e
  "$@" 2>&1 | tee -a "$STEP_LOG" "$LOG" | sed -u 's/^/  /'
  rc=${PIPESTATUS[0]}
  set -e
  return "$rc"
}

warehouse_sql() {
  PGPASSWORD="${POSTGRES_PASSWORD}" psql -X -q -At -h 127.0.0.1 -p "${PGPORT}" \
    -U "${POSTGRES_USER}" -d "${WAREHOUSE_DB}" -v ON_ERROR_STOP=1 -c "$1"
}

echo "webshop demo: instance ${STACK_INSTANCE}, warehouse ${WAREHOUSE_DB} on 127.0.0.1:${PGPORT}"

# --- 1 ---------------------------------------------------------------------------------------
# Superset is left for step 3: its preparation runs beside the backfill (see there).
SUPERSET_SERVICES=(superset-prepare superset)
step "Installing what is missing and starting the stack (first time: several minutes)"
run "${STACK[@]}" up --skip "$(IFS=,; echo "${SUPERSET_SERVICES[*]}")" \
  || fail "the stack did not come up"

# --- 2 ---------------------------------------------------------------------------------------
step "Waiting for Airflow to parse the DAGs"
run python3 stack/airflow_api.py wait-dags webshop_batch_dag webshop_stream_dag \
  webshop_maintenance_dag webshop_quality_dag || fail "Airflow did not list the DAGs"

# --- 3 ---------------------------------------------------------------------------------------
# Logical dates are interval starts: the last DEMO_DAYS complete UTC days, ending yesterday.
from_date="$(date -u -d "${DEMO_DAYS} days ago" +%Y-%m-%d)"
to_date="$(date -u -d "1 day ago" +%Y-%m-%d)"
days_word=days
[ "$DEMO_DAYS" = 1 ] && days_word=day
step "Running webshop_batch_dag through Airflow for ${from_date} .. ${to_date} (${DEMO_DAYS} ${days_word}: extract, dbt build, freshness); Superset starts meanwhile"
# Superset's preparation (~20 s cold: schema, roles, dashboards import) needs only PostgreSQL, so
# it runs beside the backfill. Safe: the backfill only calls Airflow's API, so this background
# stackctl is the only process touching the instance's pid files.
SUPERSET_LOG="${STATE_DIR}/logs/demo-superset.log"
"${STACK[@]}" up "${SUPERSET_SERVICES[@]}" >"$SUPERSET_LOG" 2>&1 &
superset_up=$!
backfill_rc=0
run python3 stack/airflow_api.py backfill webshop_batch_dag "$from_date" "$to_date" \
  || backfill_rc=$?
superset_rc=0
wait "$superset_up" || superset_rc=$?
tee -a "$LOG" <"$SUPERSET_LOG" | sed 's/^/  /'
[ "$backfill_rc" -eq 0 ] || fail "the batch DAG did not finish green"
if [ "$superset_rc" -ne 0 ]; then
  cp "$SUPERSET_LOG" "$STEP_LOG"  # the tail fail() shows: Superset's, not the backfill's
  fail "Superset did not come up"
fi

# --- 4 ---------------------------------------------------------------------------------------
step "Streaming order events for ${DEMO_STREAM_S}s (simulator -> Kafka -> consumer -> PostgreSQL)"
before="$(warehouse_sql "select count(*) from raw.order_events")" \
  || fail "cannot count raw.order_events"
waited=0
now_count="$before"
while [ "$waited" -lt "$DEMO_STREAM_S" ]; do
  sleep 5
  waited=$((waited + 5))
  now_count="$(warehouse_sql "select count(*) from raw.order_events")"
  printf '  %3ds: %6d events landed during the demo (%d in total)\n' \
    "$waited" "$((now_count - before))" "$now_count" | tee -a "$LOG"
done
if [ "$((now_count - before))" -le 0 ]; then
  if [ "${PRODUCER_RATE:-0}" = "0" ]; then
    echo "  (the simulator is off: PRODUCER_RATE=0)"
  else
    "${STACK[@]}" logs producer consumer -n 20 >>"$STEP_LOG" 2>&1 || true
    fail "no event landed in ${DEMO_STREAM_S}s (producer/consumer logs above)"
  fi
fi

# --- 5 ---------------------------------------------------------------------------------------
step "Running webshop_stream_dag (incremental dbt build of the event models)"
run python3 stack/airflow_api.py trigger webshop_stream_dag \
  || fail "the stream DAG did not finish green"
# Airflow keeps its own house: the maintenance DAG runs daily from now on.
run python3 stack/airflow_api.py unpause webshop_maintenance_dag \
  || fail "could not switch on the maintenance DAG"

# --- 6 ---------------------------------------------------------------------------------------
step "The analyses (read as the analyst role from the analysis schema)"
analysis() {
  local title="$1" query="$2"
  printf '\n  %s\n' "$title" | tee -a "$LOG"
  PGPASSWORD="${ANALYST_PASSWORD}" psql -X -q -h 127.0.0.1 -p "${PGPORT}" -U analyst \
    -d "${WAREHOUSE_DB}" -v ON_ERROR_STOP=1 -P footer=off -c "$query" 2>&1 \
    | tee -a "$STEP_LOG" "$LOG" | sed 's/^/  /'
  return "${PIPESTATUS[0]}"
}
analysis "Top revenue: products (all sources)" "
  select revenue_rank as rank, product_title as product, category,
         order_count as orders, item_count as items, revenue_display as revenue,
         round(100 * revenue_share, 1) as \"share %\"
  from analysis.top_revenue_products
  where source = 'all'
  order by revenue_rank
  limit 10" || fail "query on analysis.top_revenue_products failed"
analysis "Top revenue: categories (all sources)" "
  select revenue_rank as rank, category, product_count as products, order_count as orders,
         item_count as items, revenue_display as revenue,
         round(100 * revenue_share, 1) as \"share %\"
  from analysis.top_revenue_categories
  where source = 'all'
  order by revenue_rank" || fail "query on analysis.top_revenue_categories failed"
analysis "Purchases per user (top 10 by revenue; users without orders count as zero)" "
  select user_id, username, city, order_count as orders, item_count as items,
         revenue_display as revenue,
         to_char(last_ordered_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as last_order_utc
  from analysis.purchases_per_user
  where source = 'all'
  order by revenue desc, user_id
  limit 10" || fail "query on analysis.purchases_per_user failed"
analysis "Daily trend (last 10 days; batch = scraped carts, stream = paid event orders)" "
  select date_day as day,
         max(order_count) filter (where source = 'all') as orders,
         max(revenue_display) filter (where source = 'batch') as batch_revenue,
         max(revenue_display) filter (where source = 'stream') as stream_revenue,
         max(revenue_display) filter (where source = 'all') as revenue,
         max(revenue_7d_avg_display) filter (where source = 'all') as revenue_7d_avg
  from analysis.daily_order_trend
  group by date_day
  order by date_day desc
  limit 10" || fail "query on analysis.daily_order_trend failed"

# --- 7 ---------------------------------------------------------------------------------------
step "Where to look next"
cat <<EOF | tee -a "$LOG"
  Airflow UI   http://127.0.0.1:${AIRFLOW_PORT}   login ${AIRFLOW_ADMIN_USER} / ${AIRFLOW_ADMIN_PASSWORD}
               (local native mode only) - both DAGs with their runs, logs and Assets
  Superset     http://127.0.0.1:${SUPERSET_PORT}/superset/dashboard/webshop/   login ${SUPERSET_ADMIN_USER} / ${SUPERSET_ADMIN_PASSWORD}
               (local native mode only) - the webshop dashboard over the analysis views
  dbt docs     make docs, then http://127.0.0.1:${DBT_DOCS_PORT} (lineage from raw to analysis)
  psql         PGPASSWORD=${ANALYST_PASSWORD} psql -h 127.0.0.1 -p ${PGPORT} -U analyst -d ${WAREHOUSE_DB}
               e.g. select * from analysis.daily_order_trend where source = 'all' order by date_day;
  health       make status    logs: make logs SERVICE=airflow-scheduler    stop: make down

[demo] done in $((SECONDS - STARTED))s: ${DEMO_DAYS} batch ${days_word} and a stream run, all green.
EOF
