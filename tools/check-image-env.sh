#!/usr/bin/env bash
# `make check-image-env ACCELERATOR=gpu|tpu`: installs an accelerator image's locked package set
# (what infra/Dockerfile installs with that ACCELERATOR) into a throwaway venv and checks that
# TensorFlow there finds what the image relies on (tools/check_image_env.py prints the verdict).
# Not part of `make test`: the GPU set is a few GB of wheels from PyPI.
#
# The venv is build/image-env/<accelerator>; a stamp (hash of the locks and this script) skips
# the install when nothing changed. `rm -rf build/image-env` (or `make clean`) removes it.
# Exit: 0 all checks passed; 1 a check failed; 2 usage, install error, or (tpu) what cannot be
# checked here.
set -eEuo pipefail
cd "$(dirname "$0")/.."

accelerator=${1:-gpu}
case "$accelerator" in
  gpu|tpu) ;;
  *) echo "check-image-env: ACCELERATOR must be gpu or tpu, got '$accelerator'" >&2; exit 2 ;;
esac

venv="build/image-env/$accelerator"
stamp="$venv/.installed"
python=${PYTHON:-}
if [ -z "$python" ]; then
  python=$(tools/find-python310.sh) || exit 2
fi
want=$(cat requirements.lock "requirements-$accelerator.lock" tools/check-image-env.sh \
         | sha256sum | cut -d' ' -f1)

# pip's per-package notes about index locations missing on this machine are noise here.
quiet_pip() { "$@" 2> >(grep -v "^WARNING: Location '" >&2 || true); }

install() {
  echo "check-image-env: creating $venv with $python (first time: several GB from PyPI)"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv"
  quiet_pip "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pip==24.2"
  local pip=(quiet_pip "$venv/bin/python" -m pip install --quiet --disable-pip-version-check
             --no-deps)
  if [ "$accelerator" = gpu ]; then
    # Exactly the image's install: both locks, no resolver run.
    "${pip[@]}" -r requirements.lock -r requirements-gpu.lock
  else
    # The TPU image drops tensorflow (tensorflow-tpu installs the same package). libtpu is on
    # Google's index only, which this machine cannot reach: everything else is installed.
    grep -v '^tensorflow==' requirements.lock > "$venv/requirements-tpu-base.lock"
    grep -v '^libtpu==' requirements-tpu.lock > "$venv/requirements-tpu-pypi.lock"
    "${pip[@]}" -r "$venv/requirements-tpu-base.lock" -r "$venv/requirements-tpu-pypi.lock"
  fi
  echo "$want" > "$stamp"
}

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c '' 2>/dev/null; then
  echo "check-image-env: reusing $venv (locks unchanged)"
else
  trap 'echo "check-image-env: installing the $accelerator set into $venv failed" >&2; exit 2' ERR
  install
  trap - ERR
fi

# Legacy Keras on as in the image, and TensorFlow's loader logging on so that its own dlopen
# results are visible. No LD_LIBRARY_PATH from the caller: the probe sets it only to stand in
# for the GPU image's ld.so.conf.d entry (and runs once without it, for comparison).
exec env -u LD_LIBRARY_PATH TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=0 \
  TF_CPP_VMODULE=dso_loader=1 "$venv/bin/python" tools/check_image_env.py "$accelerator"
