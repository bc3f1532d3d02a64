#!/usr/bin/env bash
# The compose `airflow-init` job (docker-compose.yml): what stack/prepare_airflow.sh does for the
# native stack, minus what compose's environment already carries (the settings) and minus the
# native-only seeded login. Idempotent, so it runs on every `docker compose up`, on a new volume
# and on an existing one alike:
#   1. the metadata database ${AIRFLOW_DB} in the compose PostgreSQL (created if missing: the
#      postgres image creates only `postgres`), owned by the role ${AIRFLOW_DB_USER}
#      (docker/postgres/metadata_owner.py running stack/postgres/metadata_owner.sql, shared with
#      the native stack); the daemons connect as that role, this one-shot job alone holds the
#      superuser's password
#   2. `airflow db migrate`
#   3. the `dbt` pool with one slot (dbt invocations never overlap)
# The Airflow login: the Simple auth manager generates the password of ${AIRFLOW_ADMIN_USER} on
# the API server's first start and keeps it in the airflow-auth volume (see the compose header).
set -euo pipefail

step() { echo "[airflow-init] $*"; }

step "metadata database ${AIRFLOW_DB}, owned by ${AIRFLOW_DB_USER}"
python /opt/webshop/docker/postgres/metadata_owner.py \
  "${AIRFLOW_DB}" "${AIRFLOW_DB_USER}" AIRFLOW_DB_PASSWORD

step "airflow db migrate"
airflow db migrate

step "pool dbt (1 slot)"
airflow pools set dbt 1 "dbt invocations: one at a time (webshop DAGs)" >/dev/null

step "Airflow $(airflow version) is ready"
