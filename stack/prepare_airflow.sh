#!/usr/bin/env bash
# Prepares native Airflow 3 for an instance of the stack; run by stack/stackctl/ before the
# first Airflow service starts (services.json "prepare": "airflow"), with the instance
# environment. Idempotent: every step checks or overwrites, so it runs on every start.
#
#   1. the metadata database ${AIRFLOW_DB} in the stack's PostgreSQL, owned by the role
#      ${AIRFLOW_DB_USER} (both created if missing; an existing database is handed over)
#   2. ${STATE_DIR}/airflow/airflow.cfg: the same settings services.json gives the daemons, so
#      any `AIRFLOW_HOME=${STATE_DIR}/airflow airflow ...` CLI call sees the same Airflow
#   3. `airflow db migrate`
#   4. the Simple auth manager's password file: ${AIRFLOW_ADMIN_USER}/${AIRFLOW_ADMIN_PASSWORD}
#      (admin/admin by default). NATIVE LOCAL MODE ONLY: the file is plaintext by design of the
#      Simple auth manager; the compose deployment does not use this script.
#   5. the `dbt` pool with one slot (dbt invocations never overlap)
set -euo pipefail

: "${STATE_DIR:?run through python3 -m stack.stackctl}" "${AIRFLOW_BIN:?}" "${PG_BIN:?}" "${PROJECT_DIR:?}"

export AIRFLOW_HOME="${STATE_DIR}/airflow"
mkdir -p "${AIRFLOW_HOME}/logs"
chmod 700 "${AIRFLOW_HOME}"

step() { echo "[prepare_airflow] $*"; }

# --- 1. metadata database --------------------------------------------------------------------
if [[ ! "${AIRFLOW_DB}" =~ ^[a-z_][a-z0-9_]*$ ]]; then
  echo "AIRFLOW_DB must be a plain lowercase identifier, got ${AIRFLOW_DB}" >&2
  exit 1
fi
psql_admin() {
  PGPASSWORD="${POSTGRES_PASSWORD}" "${PG_BIN}/psql" -X -q -v ON_ERROR_STOP=1 -At \
    -h 127.0.0.1 -p "${PGPORT}" -U "${POSTGRES_USER}" -d postgres "$@"
}
if [[ ! "${AIRFLOW_DB_USER}" =~ ^[a-z_][a-z0-9_]*$ ]]; then
  echo "AIRFLOW_DB_USER must be a plain lowercase identifier, got ${AIRFLOW_DB_USER}" >&2
  exit 1
fi
if [ "$(psql_admin -c "select 1 from pg_database where datname = '${AIRFLOW_DB}'")" != "1" ]; then
  step "creating database ${AIRFLOW_DB}"
  psql_admin -c "create database \"${AIRFLOW_DB}\""
fi
# The role Airflow connects as (never the superuser), its password (so a rotated one applies),
# and the ownership of the database and its objects: stack/postgres/metadata_owner.sql, shared with
# compose's airflow-init. psql's :'var' quotes the values as literals.
step "role ${AIRFLOW_DB_USER} owns database ${AIRFLOW_DB}"
psql_admin -d "${AIRFLOW_DB}" -v role="${AIRFLOW_DB_USER}" -v pw="${AIRFLOW_DB_PASSWORD:?}" \
  -f - <<SQL >/dev/null
select set_config('webshop.owner_role', :'role', false),
  set_config('webshop.owner_password', :'pw', false);
\\i ${PROJECT_DIR}/stack/postgres/metadata_owner.sql
SQL

# --- 2. airflow.cfg (rewritten on every start so a changed .env applies) ----------------------
step "writing ${AIRFLOW_HOME}/airflow.cfg"
umask 077
cat > "${AIRFLOW_HOME}/airflow.cfg" <<EOF
# Written by stack/prepare_airflow.sh on every start; edit .env or that script, not this file.
# The daemons get the same values from stack/services.json (environment wins over this file).
[core]
dags_folder = ${PROJECT_DIR}/dags
executor = LocalExecutor
load_examples = False
# Sized for a 2-core machine: the heavy work (dbt, Deno) runs in subprocesses anyway.
parallelism = 4
max_active_tasks_per_dag = 4
fernet_key = ${AIRFLOW_FERNET_KEY:-}
simple_auth_manager_users = ${AIRFLOW_ADMIN_USER}:admin
simple_auth_manager_passwords_file = ${AIRFLOW_HOME}/simple_auth_manager_passwords.json
execution_api_server_url = http://127.0.0.1:${AIRFLOW_PORT}/execution/

[database]
sql_alchemy_conn = postgresql+psycopg2://${AIRFLOW_DB_USER}:${AIRFLOW_DB_PASSWORD}@127.0.0.1:${PGPORT}/${AIRFLOW_DB}

[api]
host = 127.0.0.1
port = ${AIRFLOW_PORT}
base_url = http://127.0.0.1:${AIRFLOW_PORT}
workers = 1
secret_key = ${AIRFLOW_SECRET_KEY}
expose_config = False

[api_auth]
jwt_secret = ${AIRFLOW_JWT_SECRET}

[dag_processor]
parsing_processes = 1
# Look for new DAG files every 30 s (default 300 s): this is a development stack.
refresh_interval = 30

[logging]
base_log_folder = ${AIRFLOW_HOME}/logs

[usage_data_collection]
enabled = False
EOF
umask 022

# --- 3. schema ----------------------------------------------------------------------------------
step "airflow db migrate"
"${AIRFLOW_BIN}" db migrate >"${AIRFLOW_HOME}/db_migrate.log" 2>&1 || {
  tail -n 40 "${AIRFLOW_HOME}/db_migrate.log" >&2
  exit 1
}

# --- 4. local login (native mode only) ---------------------------------------------------------
step "writing the Simple auth manager password for ${AIRFLOW_ADMIN_USER}"
python3 - "${AIRFLOW_HOME}/simple_auth_manager_passwords.json" <<'PY'
import json, os, sys
path = sys.argv[1]
with open(path, "w") as handle:
    json.dump({os.environ["AIRFLOW_ADMIN_USER"]: os.environ["AIRFLOW_ADMIN_PASSWORD"]}, handle)
    handle.write("\n")
os.chmod(path, 0o600)
PY

# --- 5. pools -------------------------------------------------------------------------------------
step "pool dbt (1 slot)"
"${AIRFLOW_BIN}" pools set dbt 1 "dbt invocations: one at a time (webshop DAGs)" >/dev/null
