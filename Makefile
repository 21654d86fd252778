# The two commands a newcomer needs: `make demo` and `make test`. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/.genie/dagster_home
export GENIE_ARTIFACTS_DIR := $(CURDIR)/.genie/artifacts
export GENIE_JARS_DIR := $(CURDIR)/.genie/jars

.PHONY: prepare setup demo test test-fast test-slow lint browser pipeline backfill ui bench bench-scale bench-peers clean java

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "genie-assets needs Python 3.11 or newer (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@bash scripts/heartbeat.sh "installing genie-assets and its dependencies into $(VENV)" \
	  $(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

java:
	@command -v java >/dev/null 2>&1 || [ -x "$$JAVA_HOME/bin/java" ] || { \
	  echo "Spark needs Java 17 or newer and none was found."; \
	  echo "Install it (Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless) or set JAVA_HOME."; \
	  exit 1; }

# What every command needs first: the environment, Java, the instance's settings, and Spark's
# jars from Maven Central, fetched once into .genie/jars (GraphFrames of the installed
# graphframes-py, hadoop-aws of pyspark's Hadoop; one line each says what it found).
prepare: $(BIN)/.installed java $(DAGSTER_HOME)/dagster.yaml
	@mkdir -p $(GENIE_ARTIFACTS_DIR)
	@$(BIN)/python -m genie_assets.pipeline.spark_jars

# The engine compiled once, here, for this CPU (a few minutes the first time after an engine
# change, a second after; it says what it compiles as it goes), into the package's own cache,
# where every later process finds it; alongside, on a second core, the portable cache that
# SageMaker jobs ship. Then decoupler's AUCell kernel, which it caches beside its own code.
setup: prepare
	$(BIN)/python -m genie_assets.engine.compile_cache --with-portable
	@$(BIN)/python -m genie_assets.network.activity

# The instance's settings (telemetry off, ...) from deploy/dagster.yaml.
$(DAGSTER_HOME)/dagster.yaml: deploy/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp deploy/dagster.yaml $@

# Materialise the whole asset graph on the built-in toy data, then show the hub genes. It
# compiles only the engine it runs (the rest is setup's), saying so as it goes.
demo: prepare
	$(BIN)/python -m genie_assets.demo

test: setup browser
	$(BIN)/python -m pytest

# The plain-library tests: the engine, its golden results, reading inputs (no Dagster, Spark).
test-fast: setup
	$(BIN)/python -m pytest genie_assets_tests/test_engine.py genie_assets_tests/test_golden.py \
	  genie_assets_tests/test_expression.py

lint: setup
	$(BIN)/ruff check genie_assets genie_assets_tests benchmarks scripts

# The UI tests drive Debian's Chromium; installed here where apt and root allow, else said how.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Chromium not found: installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && apt-get install -y -qq chromium; \
	  else \
	    echo "Chromium not found: the browser tests will be skipped."; \
	    echo "Install it (Debian/Ubuntu: sudo apt-get install chromium) to run them."; \
	  fi; }

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

# The whole CLI flow at genome scale in a fresh instance (20,000 genes × 1,000 cells by default;
# `ARGS="--genes 4000 --shards 8"` for a quicker look): each phase's time, the shard phase's
# efficiency against the engine alone, the projection to 49,000 targets.
bench-scale: setup
	$(BIN)/python benchmarks/genome_scale.py $(ARGS)

# The engines against arboreto (GRNBoost2, GENIE3) and R's GENIE3, side by side; builds the
# peers' own environment in .genie/peers (they are not project dependencies).
bench-peers: setup
	$(BIN)/python benchmarks/peers.py

clean:
	rm -rf .genie test-output
