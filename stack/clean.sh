#!/usr/bin/env bash
# `make clean`: stops every instance (dev and each stack/instances/*.env: test, bench, demo,
# cluster, bench-cluster) and removes their local state (databases, Kafka logs, Airflow home,
# service logs) under STACK_STATE_DIR. Installed tools (STACK_CACHE_DIR) stay.
# Asks first unless CONFIRM=yes.
set -euo pipefail
cd "$(dirname "$0")/.."
state_dir=$(python3 -m stack.stackctl env | sed -n 's/^export STACK_STATE_DIR=//p' | tr -d "'")
if [[ "${CONFIRM:-}" != "yes" ]]; then
  read -r -p "Delete all local pipeline state under ${state_dir}? [y/N] " answer
  [[ "$answer" == "y" || "$answer" == "Y" ]] || { echo "nothing deleted"; exit 1; }
fi
instances=(dev)
for file in stack/instances/*.env; do instances+=("$(basename "$file" .env)"); done
for instance in "${instances[@]}"; do
  python3 -m stack.stackctl --instance "$instance" down
  rm -rf "${state_dir:?}/${instance}" "${state_dir:?}/${instance}-test-logs"
done
rm -rf target logs
echo "[clean] removed every instance's state under ${state_dir} and dbt's target/ and logs/"
