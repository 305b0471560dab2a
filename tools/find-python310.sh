#!/usr/bin/env bash
# Prints the path of a working Python 3.10 interpreter, or explains what to install and exits 1.
# Order: python3.10 on PATH (only if it really runs: an inactive pyenv shim is on PATH but fails),
# then pyenv's versions folder.
set -u

works() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }

if candidate=$(command -v python3.10 2>/dev/null) && works "$candidate"; then
  echo "$candidate"; exit 0
fi
pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for candidate in $(ls -d "$pyenv_root"/versions/3.10*/bin/python3.10 2>/dev/null | sort -V -r); do
  if works "$candidate"; then echo "$candidate"; exit 0; fi
done

cat >&2 <<MSG
error: Python 3.10 was not found.
  TFX 1.16.0 (the newest TFX that installs on this glibc) supports Python 3.9-3.10 only.
  Looked for: 'python3.10' on PATH, then $pyenv_root/versions/3.10*/bin/python3.10.
  Install it with one of:
    pyenv install 3.10.13            (then run make again; no need to activate it)
    apt-get install python3.10 python3.10-venv   (where your distribution ships it)
  Or point the build at one: make run PYTHON=/path/to/python3.10
MSG
exit 1
