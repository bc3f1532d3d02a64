#!/usr/bin/env bash
# The `demo` suite (tests/suites.json): `make demo` end to end, as a new user runs it, in the
# isolated `demo` instance (stack/instances/demo.env: the dev profile, so Airflow, the simulator
# and the consumer run exactly as with `make up`, on ports of its own). It starts from an empty
# state directory, runs the demo, then runs it a second time (a second `make demo` must work:
# the stack is already up, the DAGs are on, the day is reprocessed), and removes the instance.
# After the first demo, the dashboard `webshop` is tested as a user sees it: Superset's chart-data
# API against the analysis views, and headless chromium (screenshot in $STATE_DIR/artifacts/).
#
# The demo runs with a scrubbed environment: the test instance's variables (PGPORT, ...) would
# otherwise override the demo instance's own (the process environment wins in stackctl).
set -uo pipefail
cd "$(dirname "$0")/../.."

INSTANCE=demo
passed=0
failed=0
stackctl() { env -i PATH="$PATH" HOME="${HOME:-/root}" python3 -m stack.stackctl --instance "$INSTANCE" "$@"; }
STATE_DIR="$(stackctl env | sed -n "s/^export STATE_DIR=//p" | tr -d "'")"

# The instance's state goes with it; its test artifacts (the dashboard's screenshot) are kept in
# the test runner's log directory (TEST_LOG_DIR), or in /tmp when the suite runs on its own.
ARTIFACTS_KEPT="${TEST_LOG_DIR:-/tmp}/demo-artifacts"
clean() {
  stackctl down >/dev/null 2>&1 || true
  if [ -n "$STATE_DIR" ] && [ -d "$STATE_DIR/artifacts" ]; then
    mkdir -p "$ARTIFACTS_KEPT" && cp -a "$STATE_DIR/artifacts/." "$ARTIFACTS_KEPT/" &&
      echo "artifacts kept in $ARTIFACTS_KEPT"
  fi
  [ -n "$STATE_DIR" ] && rm -rf "$STATE_DIR"
}
trap clean EXIT
clean

check() {  # check NAME CONDITION...: one counted test
  local name="$1"
  shift
  if "$@"; then
    echo "ok: $name"
    passed=$((passed + 1))
  else
    echo "FAILED: $name"
    failed=$((failed + 1))
  fi
}

demo() {  # demo LOGFILE DAYS STREAM_S: runs make demo's script in the demo instance
  local log="$1"
  env -i PATH="$PATH" HOME="${HOME:-/root}" LANG=C.UTF-8 STACK_INSTANCE="$INSTANCE" \
    DEMO_DAYS="$2" DEMO_STREAM_S="$3" bash stack/demo.sh 2>&1 | tee "$log"
  return "${PIPESTATUS[0]}"
}

out="$(mktemp -d)"
echo "== first demo, from an empty instance"
demo "$out/first.log" 2 20
code=$?
check "the first demo finishes" test "$code" -eq 0
analysis_rows() {  # analysis_rows VIEW: rows for source 'all', read as the analyst role
  stackctl exec -- bash -c 'PGPASSWORD="$ANALYST_PASSWORD" psql -X -q -At -h 127.0.0.1 \
    -p "$PGPORT" -U analyst -d "$WAREHOUSE_DB" \
    -c "select count(*) from analysis.$0 where source = '"'all'"'"' "$1"
}
analyses_have_rows() {  # the views the demo prints hold data the analyst can read
  local view rows
  for view in top_revenue_products top_revenue_categories purchases_per_user daily_order_trend; do
    rows="$(analysis_rows "$view")"
    [[ "$rows" =~ ^[1-9][0-9]*$ ]] || { echo "  analysis.$view: '$rows' rows"; return 1; }
  done
}
check "the analyses it prints hold rows the analyst can read" analyses_have_rows
check "the batch runs went green through Airflow" \
  grep -q "webshop_batch_dag: 2/2 runs succeeded" "$out/first.log"
check "events were streamed and landed" \
  grep -Eq "20s: +[1-9][0-9]* events landed" "$out/first.log"
check "the stream DAG went green" grep -q "webshop_stream_dag: 1/1 runs succeeded" "$out/first.log"
airflow_ui_answers() {  # the Airflow UI address the demo prints is the running API server
  local url
  url="$(sed -n 's/^ *Airflow UI *\(http:[^ ]*\).*/\1/p' "$1")"
  [ -n "$url" ] && curl --fail --silent --max-time 5 -o /dev/null "$url/api/v2/monitor/health"
}
check "the Airflow UI it points to answers" airflow_ui_answers "$out/first.log"
# Issue #11: what a running instance exposes and who it connects as.
security() { stackctl exec -- python3 tests/demo/security_check.py "$1"; }
check "every socket the instance listens on is on loopback" security listeners
check "no process of the instance (Airflow's tasks inherit the scheduler's) holds the superuser password" \
  security environ
check "no service session is the superuser's; Airflow connects as its own role" security sessions
# Issue #12: the dashboard `webshop` as a user sees it, on the first demo's data, no step between.
superset_url_answers() {  # the dashboard address the demo prints is the running Superset
  local url
  url="$(grep -o 'http://127\.0\.0\.1:[0-9]*/superset/dashboard/webshop/' "$1" | head -n 1)"
  [ -n "$url" ] || { echo "  no dashboard URL in the demo's output"; return 1; }
  curl --fail --silent --location --max-time 10 -o /dev/null "$url"
}
check "the Superset dashboard URL it prints answers" superset_url_answers "$out/first.log"
# The Deno tests count themselves (deno's closing line is summed with ours by the test runner).
# --allow-all: playwright-core reads /proc (a WSL probe), which Deno grants only with it.
stackctl exec -- deno test --allow-all \
  tests/demo/dashboard_api_test.ts tests/demo/dashboard_browser_test.ts 2>&1 | tee "$out/dashboard.log"
if ! grep -Eq '^(ok|FAILED) \| [0-9]+ passed' "$out/dashboard.log"; then
  echo "FAILED: the dashboard's Deno tests ended without deno's closing line"
  failed=$((failed + 1))
fi
secrets_file="$STATE_DIR/secrets.env"
secrets_first="$(sha256sum "$secrets_file" 2>/dev/null)"
check "the generated secrets file is private (0600)" test "$(stat -c %a "$secrets_file")" = 600

echo "== second demo, on the running instance"
demo "$out/second.log" 1 5
code=$?
check "a second demo finishes too" test "$code" -eq 0
check "the second demo reprocessed the day" \
  grep -q "webshop_batch_dag: 1/1 runs succeeded" "$out/second.log"
check "the running instance kept its generated secrets" \
  test -n "$secrets_first" -a "$(sha256sum "$secrets_file")" = "$secrets_first"

rm -rf "$out"
echo "demo: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
