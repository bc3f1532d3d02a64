# The front door. Every target runs through the stack manager (stack/stackctl/), so the same
# versions, settings and tools are used natively, in tests and in CI. `make help` lists targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY ?= python3
STACK := $(PY) -m stack.stackctl
EXEC := $(STACK) exec --
# Workers connect as the loader role (writes raw/audit only)
AS_LOADER := env PGUSER=loader PGPASSWORD="$${LOADER_PASSWORD}"

.PHONY: help up down status logs demo test lint extract transform docs bench clean relock \
        dlq-replay migrate full-refresh secrets install chaos

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

install: ## Install every tool the stack needs (idempotent, cached, pinned)
	@$(STACK) install

up: ## Start the whole stack on 127.0.0.1 (installs what is missing)
	@$(STACK) up

down: ## Stop what `make up` started (data is kept)
	@$(STACK) down

status: ## Health of every service, plus pipeline state
	@$(STACK) status

logs: ## Tail every service log (SERVICE=name for one, N=lines)
	@$(STACK) logs $(SERVICE) -n $(or $(N),40)

migrate: ## Upgrade the warehouse database to the newest migration
	@$(EXEC) deno task migrate

# START, END and ARGS reach the recipes as environment variables holding their unexpanded text
# ($(value ...): make runs no $(shell ...) in them), and the recipes quote them as shell
# variables: a quote, `$(...)` or a space is data for the CLI to judge, never make or shell code.
# Make exports command-line variables by itself, expanding them on the way: unexport them.
# ARGS holds several flags, so dlq-replay splits it into words on purpose (globbing off: set -f).
unexport START END ARGS
extract: export CLI_START = $(value START)
extract: export CLI_END = $(value END)
dlq-replay: export CLI_ARGS = $(value ARGS)

extract: ## Land one interval from the Fake Store API: make extract START=2026-11-20 END=2026-11-21
	@test -n "$${CLI_START}" -a -n "$${CLI_END}" || { echo "usage: make extract START=YYYY-MM-DD END=YYYY-MM-DD" >&2; exit 2; }
	@$(EXEC) bash -c '$(AS_LOADER) deno task extract --start "$${CLI_START}" --end "$${CLI_END}"'

transform: ## dbt build of every model and every test over the whole history, then source freshness
	@$(EXEC) bash stack/dbt_transform.sh

full-refresh: ## Rebuild every dbt model from raw (schema changes, backfills)
	@$(EXEC) bash stack/dbt_transform.sh --full-refresh

docs: ## Generate the dbt docs site and serve it on 127.0.0.1:$DBT_DOCS_PORT
	@$(EXEC) bash stack/dbt_docs.sh

dlq-replay: ## Re-validate dead letters and land those that now pass (ARGS="--error-class schema")
	@$(EXEC) bash -c 'set -f; $(AS_LOADER) deno task dlq-replay $${CLI_ARGS}'

demo: ## From a fresh clone: install, start, run the whole pipeline, print the analyses
	@bash stack/demo.sh

test: ## Run every test suite against an isolated stack (own ports and data)
	@$(PY) -m stack.stackctl.testrun $(SUITES)

chaos: ## Opt-in failover chaos (not in make test): kill the controller, stop the group coordinator
	@$(PY) -m stack.stackctl.testrun chaos

lint: ## deno fmt --check, deno lint, deno check, sqlfluff, ruff
	@bash stack/lint.sh

bench: ## Benchmarks (extract, dbt, stream, stream_history): figures against a same-run baseline
	@bash stack/bench.sh $(BENCH)

clean: ## Remove local state (data, logs) of every instance; CONFIRM=yes skips the prompt
	@bash stack/clean.sh

relock: ## Re-resolve the Python lock files from stack/python/*.in
	@$(STACK) relock

secrets: ## Print fresh secrets (Airflow and Superset keys, metadata DB passwords) for .env or compose
	@$(PY) -m stack.stackctl.secrets
