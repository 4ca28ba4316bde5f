# predmaint — the same commands locally and in CI.
SHELL := /bin/bash
export PATH := $(CURDIR)/.venv/bin:$(PATH)
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV = $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")

# Telemetry off in every tool (also set by the code's entry points).
export DO_NOT_TRACK := true
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export MLFLOW_DISABLE_TELEMETRY := true
export DVC_NO_ANALYTICS := 1
export GX_ANALYTICS_ENABLED := False
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120
# Byte-code caching on: some machines set PYTHONDONTWRITEBYTECODE, which recompiles every import.
unexport PYTHONDONTWRITEBYTECODE

.DEFAULT_GOAL := help
.PHONY: help setup lint format test demo ui reset clean up down status audit

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.synced: uv.lock pyproject.toml
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 \
		|| { echo "installing uv with pip"; $(PYTHON) -m pip install --quiet uv; }
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --python $(PYTHON)
	@touch $@

setup: $(VENV)/.synced ## Create .venv with uv, exactly from uv.lock

lint: setup ## ruff, mypy and the import-linter contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

audit: setup ## pip-audit of the locked requirements; exit 2 when the vulnerability database cannot be reached
	BIN=$(BIN) UV="$(UV)" ./deploy/audit.sh

format: setup ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: setup ## Run the whole test suite
	$(BIN)/pytest

demo: setup ## Run the whole lifecycle end to end on embedded defaults
	PREFECT_HOME="$(CURDIR)/.run/prefect" $(BIN)/predmaint demo

ui: setup ## Open the MLflow, Prefect and Evidently UIs on free ports (prints the URLs; Ctrl-C stops)
	PREFECT_HOME="$(CURDIR)/.run/prefect" $(BIN)/predmaint ui

up: setup ## Start Prefect server, MLflow server, API and flow runner on 127.0.0.1
	$(BIN)/predmaint stack up

down: setup ## Stop every service started by `make up`
	$(BIN)/predmaint stack down

status: setup ## Show what runs and the URLs
	$(BIN)/predmaint stack status

reset: setup ## Remove generated state (data versions, mlruns, reports, logs); keeps the DVC cache
	$(BIN)/predmaint reset --yes

clean: ## Remove caches and the virtualenv
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
