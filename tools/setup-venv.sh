#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs the locked dependency set plus this package
# (editable, so module_path resolves to the checkout). Skips all work when the stamp says the
# venv already matches requirements.lock and pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
stamp="$venv/.installed"
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c '' 2>/dev/null; then
  exit 0
fi

python=${PYTHON:-}
if [ -z "$python" ]; then
  python=$(tools/find-python310.sh)
fi
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
  echo "setup: creating $venv with $python"
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi

echo "setup: installing the locked dependency set into $venv (first time takes a few minutes)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.2"
# The lock is a complete `pip freeze`: --no-deps installs exactly it, with no resolver backtracking.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
echo "$want" > "$stamp"
echo "setup: done"
