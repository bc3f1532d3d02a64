#!/usr/bin/env bash
# The `dags` suite (tests/suites.json): DAG integrity, the helpers, and real `airflow dags test`
# runs of the batch and stream DAGs. Needs the stack's environment (make test provides it; by
# hand: python3 -m stack.stackctl exec -- bash tests/dags/run.sh) and Airflow's virtualenv.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${AIRFLOW_VENV:?run through python3 -m stack.stackctl exec or make test}"
[ -x "${AIRFLOW_VENV}/bin/python" ] || python3 -m stack.stackctl install airflow
exec "${AIRFLOW_VENV}/bin/python" -m pytest -c tests/dags/pytest.ini -v tests/dags "$@"
