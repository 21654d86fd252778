# The two commands a newcomer needs: `make demo` and `make test`. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/.genie/dagster_home
export GENIE_ARTIFACTS_DIR := $(CURDIR)/.genie/artifacts

.PHONY: setup demo test test-slow pipeline backfill ui bench clean java

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "genie-assets needs Python 3.11 or newer (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

java:
	@command -v java >/dev/null 2>&1 || [ -x "$$JAVA_HOME/bin/java" ] || { \
	  echo "Spark needs Java 17 or newer and none was found."; \
	  echo "Install it (Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless) or set JAVA_HOME."; \
	  exit 1; }

setup: $(BIN)/.installed java $(DAGSTER_HOME)/dagster.yaml
	@mkdir -p $(GENIE_ARTIFACTS_DIR)

# The instance's settings (telemetry off, ...) from deploy/dagster.yaml.
$(DAGSTER_HOME)/dagster.yaml: deploy/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp deploy/dagster.yaml $@

# Materialise the whole asset graph on the built-in toy data, then show the hub genes.
demo: setup
	$(BIN)/python -m genie_assets.demo

test: setup
	$(BIN)/python -m pytest

test-slow: setup
	$(BIN)/python -m pytest -m slow

# The same pipeline through `dagster job execute`, as CI runs it.
pipeline: setup
	PATH=$(CURDIR)/$(BIN):$$PATH bash scripts/run_toy_pipeline.sh

# Re-run only the shard partitions that failed or are missing (then `make pipeline` or network_job).
backfill: setup
	$(BIN)/python -m genie_assets.backfill

ui: setup
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000 -w workspace.yaml

bench: setup
	$(BIN)/python benchmarks/engine.py

clean:
	rm -rf .genie test-output
