# The project's commands. Each target sets up .venv first when needed (tools/setup-venv.sh).
# Environment: DATA_ROOT (CSV folder), PIPELINE_HOME (run outputs), TRAIN_STEPS, PYTHON.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export TF_USE_LEGACY_KERAS := 1
export PIPELINE_HOME ?= $(CURDIR)/pipeline_home
export DATA_ROOT
export TRAIN_STEPS
export PYTHON

.PHONY: setup run test test-fast bench compile lock clean

setup:
	@tools/setup-venv.sh

run: setup
	@$(PY) -m pipeline run

compile: setup
	@$(PY) -m pipeline compile --output build/pipeline.json

test: setup
	@$(PY) -m pytest tests

# Unit tests only (skips the end-to-end pipeline runs).
test-fast: setup
	@$(PY) -m pytest tests -m "not e2e"

bench: setup
	@$(PY) -m bench.input_pipeline

# Re-resolve requirements.in into requirements.lock (needs `uv`: pip install uv).
lock:
	uv pip compile --quiet --python-version 3.10 --python-platform x86_64-manylinux_2_36 \
	  --no-header requirements.in -o requirements.lock

clean:
	rm -rf build pipeline_home .pytest_cache
