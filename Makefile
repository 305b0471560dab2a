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
PROFILE ?= vertex-cpu

.PHONY: setup run test test-fast bench compile lock clean

setup:
	@tools/setup-venv.sh

run: setup
	@$(PY) -m pipeline run

# Offline. Without GCP_PROJECT/GCS_BUCKET it compiles for an example identity and says so.
compile: setup
	@if [ -z "$$GCP_PROJECT$$GCS_BUCKET" ] && [ "$(PROFILE)" != local ]; then \
	  echo "compile: GCP_PROJECT/GCS_BUCKET not set; using example-project/example-project-taxi" \
	       "(set them for a deployable spec)"; \
	  export GCP_PROJECT=example-project GCS_BUCKET=example-project-taxi; fi; \
	$(PY) -m pipeline compile --profile $(PROFILE)

test: setup
	@$(PY) -m pytest tests --durations=15

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
