# The project's commands. Each target sets up .venv first when needed (tools/setup-venv.sh).
# Environment (every variable: pipeline/environment.py): DATASET (bundled name or folder; default
# taxi), DATA_ROOT (data folder), PIPELINE_HOME (run outputs), ENGINE, PROFILE, TRAIN_STEPS, CACHE,
# PYTHON.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export TF_USE_LEGACY_KERAS := 1
export PIPELINE_HOME ?= $(CURDIR)/pipeline_home
export DATA_ROOT
export TRAIN_STEPS
export TUNER_TRIALS
export TUNER_STEPS
export PYTHON
export DATASET
export PROFILES_FILE
export PROFILE ?= vertex-cpu
# CACHE=0: run every step, taking nothing from the step cache (pipeline/environment.py).
export CACHE

.PHONY: setup run runs report dataset-init test test-fast bench bench-e2e bench-images bench-images-e2e bench-scale compile lock \
  lock-gpu check-image-env clean

setup:
	@tools/setup-venv.sh

# ENGINE: local (LocalDagRunner), vertex-local (compile PROFILE, default vertex-cpu, and run that
# exact spec here) or vertex (submit it to Vertex AI): pipeline/engines/.
ENGINE ?= local
run: setup
	@$(PY) -m pipeline run --engine $(ENGINE)

# Every run of PIPELINE_HOME (failed ones too): time, engine, pipeline, status, key metric, data
# root, log. `.venv/bin/pipeline runs` is the same command.
runs: setup
	@$(PY) -m pipeline runs

# Rebuild a run's report.html (RUN_ID from `make runs`; default: the latest run).
RUN_ID ?=
report: setup
	@$(PY) -m pipeline report $(if $(RUN_ID),--run-id $(RUN_ID))

# A dataset definition from a sample of your CSV: make dataset-init CSV=data.csv LABEL=col OUT=dir
# (TASK=binary|multiclass|regression to override the guess); from a folder of class folders of
# images, IMAGES=<folder> OUT=dir; from a CSV manifest of images (Vertex AI's import format),
# MANIFEST=<file.csv> OUT=dir.
CSV ?=
LABEL ?=
OUT ?=
TASK ?=
IMAGES ?=
MANIFEST ?=
dataset-init: setup
	@if [ -z "$(OUT)" ] || { [ -z "$(IMAGES)$(MANIFEST)" ] && { [ -z "$(CSV)" ] || [ -z "$(LABEL)" ]; }; }; then \
	  echo 'usage: make dataset-init CSV=<file.csv> LABEL=<column> OUT=<folder> [TASK=...]' >&2; \
	  echo '       make dataset-init IMAGES=<folder> OUT=<folder>' >&2; \
	  echo '       make dataset-init MANIFEST=<file.csv> OUT=<folder>' >&2; \
	  exit 2; fi
	@$(PY) -m pipeline dataset init --out "$(OUT)" $(if $(IMAGES),--images "$(IMAGES)",$(if \
	  $(MANIFEST),--manifest "$(MANIFEST)",--csv "$(CSV)" --label "$(LABEL)" $(if $(TASK),--task $(TASK))))

# Offline. Without GCP_PROJECT/GCS_BUCKET it compiles for an example identity and says so.
compile: setup
	@$(PY) -m pipeline compile --profile $(PROFILE)

# Tests run in PYTEST_WORKERS processes (pytest-xdist; 0 runs them all in one). Tests that share a
# costly fixture run in one worker, the longest groups first (tests/conftest.py: xdist_group).
# Three on two cores: two workers kept the cores ~80% busy (a pipeline run waits on its
# subprocesses and files), and the local Vertex engine's group takes one worker for ~12 minutes.
PYTEST_WORKERS ?= 3
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadgroup

# Tests marked `timing` judge wall-clock times: they run alone, after the parallel run. Both runs
# always run; the target fails when either does. $(1): the marks selected (all when empty);
# $(2): more pytest options for the parallel run.
define pytest_with_timing_alone
@$(PY) -m pytest tests -m "$(if $(1),$(1) and )not timing" $(PYTEST_PARALLEL) $(2); \
  parallel=$$?; $(PY) -m pytest tests -m "$(if $(1),$(1) and )timing" -n 0; \
  alone=$$?; exit $$(( parallel ? parallel : alone ))
endef

test: setup
	$(call pytest_with_timing_alone,,--durations=15)

# Unit tests only: no pipeline runs, trainings, compiles or installs in other processes (the
# e2e and integration marks, pyproject.toml).
test-fast: setup
	$(call pytest_with_timing_alone,not e2e and not integration)

bench: setup
	@$(PY) -m bench.input_pipeline

# `make run` from an empty home vs TFX's taxi_pipeline_native_keras.py: bench/results/e2e.json.
bench-e2e: setup
	@$(PY) -m bench.e2e

# Image input pipelines on the digits at 64 and 224 px (tf.data with and without the cache, a PIL
# Keras Sequence, from_generator, float32 records, preloaded arrays) and where augmentation runs:
# bench/results/images.json and images.md (~5-10 min on 2 cores; BENCH_IMAGES_ARGS: --help).
BENCH_IMAGES_ARGS ?=
bench-images: setup
	@$(PY) -m bench.images $(BENCH_IMAGES_ARGS)

# `make run DATASET=digits` against the same images through TFX's CIFAR-10 layout (decode in
# Transform, float examples, float serving input): bench/results/images_e2e.json (~8 min).
bench-images-e2e: setup
	@$(PY) -m bench.images_e2e

# The whole pipeline at 15k, 150k and 1.5M rows (add BENCH_SCALE_ARGS=--with-tfx for TFX's
# example on the same rows): bench/results/scale.json and scale.png.
BENCH_SCALE_ARGS ?=
bench-scale: setup
	@$(PY) -m bench.scale $(BENCH_SCALE_ARGS)

# Re-resolve requirements.in into requirements.lock (needs `uv`: pip install uv).
lock:
	uv pip compile --quiet --python-version 3.10 --python-platform x86_64-manylinux_2_36 \
	  --no-header requirements.in -o requirements.lock

# requirements-gpu.lock: the nvidia-* CUDA/cuDNN wheels tensorflow[and-cuda]==2.16.2 pins, resolved
# against requirements.lock (shared packages keep its versions); only what it lacks is written.
lock-gpu:
	@mkdir -p build
	uv pip compile --quiet --python-version 3.10 --python-platform x86_64-manylinux_2_36 \
	  --no-header -c requirements.lock requirements-gpu.in -o build/requirements-gpu.full.lock
	python3 tools/lock_extra.py build/requirements-gpu.full.lock requirements.lock requirements-gpu.lock

# Not part of `make test`: installs an accelerator image's locked set into a throwaway venv
# (build/image-env/<ACCELERATOR>, a few GB) and checks TensorFlow against it. ACCELERATOR=gpu|tpu.
ACCELERATOR ?= gpu
check-image-env:
	@tools/check-image-env.sh $(ACCELERATOR)

clean:
	rm -rf build pipeline_home .pytest_cache
