# NEV marketing analytics lab. `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.deps-installed
HOST ?= 127.0.0.1
LAB_PORT ?= 8888
MLFLOW_PORT ?= 5000
RUN_ARGS ?=
# pytest-xdist workers of make test (the machine's two cores)
TEST_WORKERS ?= 2

# Two LightGBM processes on two cores can slow each other badly when threads spin-wait.
export OMP_WAIT_POLICY ?= PASSIVE
export PYTHONUNBUFFERED := 1

.PHONY: help venv fonts java run scheduled-run test lint lab mlflow-ui benchmark lock clean-venv

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

# The venv is rebuilt only when a dependency file changes (the stamp is older than it).
$(STAMP): requirements.txt requirements.lock pyproject.toml
	@test -x $(BIN)/python || { echo "Creating $(VENV) with $$($(PYTHON) --version)"; $(PYTHON) -m venv $(VENV); }
	@echo "Installing pinned dependencies into $(VENV) (first time: about a minute)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -r requirements.txt -e .
	@touch $(STAMP)

venv: $(STAMP) ## Create or update the project's virtual environment

run: $(STAMP) fonts ## Main job: data -> features -> personas -> conversion and churn models -> MLflow -> HTML reports
	$(BIN)/python -m features.pipeline $(RUN_ARGS)

scheduled-run: $(STAMP) fonts ## The main job for cron/systemd: quiet progress, log under reports/, non-zero on failure
	$(BIN)/python -m features.pipeline --scheduled $(RUN_ARGS)

# Chinese plot labels need a CJK font; installed from Debian when none is present.
fonts: ## Install a CJK font (Debian fonts-noto-cjk) when none is installed
	@fc-list :lang=zh family 2>/dev/null | grep -q . || { \
	  echo "Installing fonts-noto-cjk (Chinese plot labels)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq fonts-noto-cjk fontconfig >/dev/null; }

# The Spark engine needs a Java runtime; installed from Debian when none is on PATH.
java: ## Install a Java runtime for Spark (Debian openjdk-17-jre-headless) when none is installed
	@command -v java >/dev/null 2>&1 || test -x "$${JAVA_HOME:-/nonexistent}/bin/java" || { \
	  echo "Installing openjdk-17-jre-headless (the Spark engine)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

# tests/ on pytest-xdist workers (one file's tests on one worker), then nbval over notebooks/ with
# --dist loadfile: a notebook's cells stay in order on one worker, sharing its kernel.
# NEV_REQUIRE_SPARK=1: the Spark parity tests fail rather than skip when Java is missing.
test: $(STAMP) fonts java ## Whole test suite: lint, repo checks, unit, Spark parity, notebook smoke tests and nbval
	NEV_REQUIRE_SPARK=1 $(BIN)/python -m pytest tests -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup
	$(BIN)/python -m pytest notebooks --nbval-lax --nbval-current-env -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP) ## ruff lint over .py and .ipynb files, ruff format check over the code
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests benchmarks

lab: $(STAMP) fonts ## JupyterLab on 127.0.0.1 (notebooks/ and the project's kernel)
	env -u MPLBACKEND $(BIN)/jupyter lab --ip=$(HOST) --port=$(LAB_PORT) --no-browser --notebook-dir=. \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

mlflow-ui: $(STAMP) ## MLflow UI on 127.0.0.1 over the project's store (or $$MLFLOW_TRACKING_URI)
	@mkdir -p mlflow/artifacts
	$(BIN)/mlflow ui --host $(HOST) --port $(MLFLOW_PORT) \
	  --backend-store-uri "$${MLFLOW_TRACKING_URI:-sqlite:///$(CURDIR)/mlflow/mlflow.db}" \
	  --default-artifact-root "$(CURDIR)/mlflow/artifacts"

benchmark: $(STAMP) java ## Benchmarks: generator, features, intake, pipeline, scoring, identity, Spark (long: 1M customers; prints figures)
	$(BIN)/python benchmarks/bench_synth.py
	$(BIN)/python benchmarks/bench_features.py
	$(BIN)/python benchmarks/bench_intake.py
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_scoring.py --explain-share 0.2
	$(BIN)/python benchmarks/bench_identity.py --records 1000000
	$(BIN)/python benchmarks/bench_spark.py

lock: ## Re-resolve requirements.txt into requirements.lock in a scratch venv
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements.txt
	{ echo "# Exact versions resolved for Python 3.11 on linux x86_64; make installs with -c requirements.lock."; \
	  echo "# Regenerate: make lock (after changing requirements.txt)."; \
	  .lock-venv/bin/pip freeze --exclude-editable | sort -f; } > requirements.lock
	rm -rf .lock-venv

clean-venv: ## Remove the virtual environment
	rm -rf $(VENV)
