#!/usr/bin/env bash
# The compose `airflow-init` job (docker-compose.yml): what stack/prepare_airflow.sh does for the
# native stack, minus what compose's environment already carries (the settings) and minus the
# native-only seeded login. Idempotent, so it runs on every `docker compose up`, on a new volume
# and on an existing one alike:
#   1. the metadata database ${AIRFLOW_DB} in the compose PostgreSQL (created if missing: the
#      postgres image creates only `postgres`), owned by the role ${AIRFLOW_DB_USER}
#      (stack/postgres/metadata_owner.sql, shared with the native stack); the daemons connect as
#      that role, this one-shot job alone holds the superuser's password
#   2. `airflow db migrate`
#   3. the `dbt` pool with one slot (dbt invocations never overlap)
# The Airflow login: the Simple auth manager generates the password of ${AIRFLOW_ADMIN_USER} on
# the API server's first start and keeps it in the airflow-auth volume (see the compose header).
set -euo pipefail

step() { echo "[airflow-init] $*"; }

step "metadata database ${AIRFLOW_DB}, owned by ${AIRFLOW_DB_USER}"
python - <<'PY'
import os

import psycopg2
from psycopg2 import sql

name = os.environ["AIRFLOW_DB"]
connection = psycopg2.connect(
    host=os.environ.get("PGHOST", "postgres"),
    port=int(os.environ.get("PGPORT", "5432")),
    dbname="postgres",
    user=os.environ["POSTGRES_USER"],
    password=os.environ["POSTGRES_PASSWORD"],
    application_name="airflow-init",
)
# CREATE DATABASE cannot run inside a transaction block.
connection.autocommit = True
with connection.cursor() as cursor:
    cursor.execute("select 1 from pg_database where datname = %s", (name,))
    if cursor.fetchone() is None:
        cursor.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        print(f"[airflow-init] created database {name}")
connection.close()

# The role, its password and the ownership of the database and what is in it.
owner_sql = open("/opt/webshop/stack/postgres/metadata_owner.sql").read()
connection = psycopg2.connect(
    host=os.environ.get("PGHOST", "postgres"),
    port=int(os.environ.get("PGPORT", "5432")),
    dbname=name,
    user=os.environ["POSTGRES_USER"],
    password=os.environ["POSTGRES_PASSWORD"],
    application_name="airflow-init",
)
connection.autocommit = True
with connection.cursor() as cursor:
    cursor.execute(
        "select set_config('webshop.owner_role', %s, false),"
        " set_config('webshop.owner_password', %s, false)",
        (os.environ["AIRFLOW_DB_USER"], os.environ["AIRFLOW_DB_PASSWORD"]),
    )
    cursor.execute(owner_sql)
print(f"[airflow-init] {name} is owned by {os.environ['AIRFLOW_DB_USER']}")
connection.close()
PY

step "airflow db migrate"
airflow db migrate

step "pool dbt (1 slot)"
airflow pools set dbt 1 "dbt invocations: one at a time (webshop DAGs)" >/dev/null

step "Airflow $(airflow version) is ready"
