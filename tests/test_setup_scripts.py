"""The set-up scripts `make` runs: finding Python 3.10 and skipping an up-to-date install."""

import subprocess
from pathlib import Path

from tests.conftest import REPO_ROOT

FIND_PYTHON = str(REPO_ROOT / 'tools' / 'find-python310.sh')


def test_finds_a_working_python310():
  result = subprocess.run([FIND_PYTHON], capture_output=True, text=True, check=False)
  assert result.returncode == 0, result.stderr
  version = subprocess.run([result.stdout.strip(), '--version'], capture_output=True, text=True,
                           check=True)
  assert version.stdout.startswith('Python 3.10')


def test_skips_a_broken_python310_on_path_and_explains_what_to_install(tmp_path):
  # A python3.10 on PATH that does not run (like an inactive pyenv shim) must not be chosen.
  shim = tmp_path / 'bin' / 'python3.10'
  shim.parent.mkdir()
  shim.write_text('#!/bin/sh\necho "pyenv: python3.10: command not found" >&2\nexit 127\n')
  shim.chmod(0o755)
  env = {'PATH': f'{shim.parent}:/usr/bin:/bin', 'HOME': str(tmp_path),
         'PYENV_ROOT': str(tmp_path / 'no-pyenv')}
  result = subprocess.run([FIND_PYTHON], env=env, capture_output=True, text=True, check=False)
  assert result.returncode == 1
  assert 'Python 3.10 was not found' in result.stderr
  assert 'pyenv install 3.10' in result.stderr
  assert result.stdout == ''


def test_setup_is_a_no_op_when_the_venv_matches_the_lock():
  stamp = Path(REPO_ROOT, '.venv', '.installed')
  subprocess.run([str(REPO_ROOT / 'tools' / 'setup-venv.sh')], check=True, capture_output=True)
  before = stamp.stat().st_mtime_ns
  result = subprocess.run([str(REPO_ROOT / 'tools' / 'setup-venv.sh')], capture_output=True,
                          text=True, check=True)
  assert result.stdout == ''  # Nothing installed, nothing said.
  assert stamp.stat().st_mtime_ns == before
