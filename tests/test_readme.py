"""The README and docs/ pages say what works: every make target and CLI command they name
exists, every file they name is in the checkout, every local link resolves; and the commands
work as written in a fresh shell (no venv activated), with the exit codes the README states."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from pipeline import cli
from tests.conftest import REPO_ROOT

_PAGES = [REPO_ROOT / 'README.md', *sorted((REPO_ROOT / 'docs').glob('*.md')),
          REPO_ROOT / 'examples' / 'README.md']
_TEXT = {page: page.read_text() for page in _PAGES}


def _code(text):
  """Inline code spans and fenced blocks: where commands are written."""
  return re.findall(r'```.*?```|`[^`\n]+`', text, re.S)


def test_every_make_target_named_exists():
  phony = re.search(r'^\.PHONY:(.*?)(?<!\\)$', (REPO_ROOT / 'Makefile').read_text(),
                    re.M | re.S)[1]
  targets = set(phony.replace('\\', ' ').split())
  named = {(page.name, target) for page, text in _TEXT.items() for code in _code(text)
           for target in re.findall(r'\bmake ([a-z][a-z0-9-]*)', code)}
  assert named and {target for _, target in named} - targets == set(), named


def test_every_cli_command_named_exists():
  commands = set(cli._parser()._subparsers._group_actions[0].choices)  # pylint: disable=protected-access
  named = {(page.name, command) for page, text in _TEXT.items() for code in _code(text)
           for command in re.findall(r'(?:\.venv/bin/pipeline|python -m pipeline) ([a-z][a-z-]*)',
                                     code)}
  assert named and {command for _, command in named} - commands == set(), named


def test_every_file_named_for_dataset_init_is_in_the_checkout():
  files = {match for text in _TEXT.values() for code in _code(text)
           for match in re.findall(r'(?:CSV=|--csv )(\S+)', code) if '...' not in match
           and not match.startswith(('<', 'FILE'))}
  assert files and all((REPO_ROOT / path).is_file() for path in files), files


def test_every_local_link_resolves():
  for page, text in _TEXT.items():
    for target in re.findall(r'\]\(([^)#:]+)(?:#[^)]*)?\)', text):
      assert (page.parent / target).exists(), (page.name, target)


def _fresh_shell(home: Path, **env) -> dict:
  """The environment of a new shell: the venv not activated, no Python or make setting
  inherited (CI runs the tests under make, whose level would show in make's messages)."""
  base = {key: value for key, value in os.environ.items()
          if key not in ('VIRTUAL_ENV', 'PYTHONPATH', 'DATASET', 'DATA_ROOT', 'PIPELINE_HOME',
                         'MAKELEVEL', 'MAKEFLAGS', 'MFLAGS', 'MAKEOVERRIDES')}
  base['PATH'] = os.pathsep.join(part for part in base.get('PATH', '').split(os.pathsep)
                                 if '.venv' not in part)
  return {**base, 'PIPELINE_HOME': str(home), **env}


def _run(command, env):
  return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                        timeout=600, check=False)


@pytest.mark.integration  # CLI runs in subprocesses, through make too.
def test_commands_work_in_a_fresh_shell_with_the_exit_codes_stated(tmp_path):
  home, empty = tmp_path / 'home', tmp_path / 'empty'
  empty.mkdir()
  pipeline = str(REPO_ROOT / '.venv' / 'bin' / 'pipeline')
  # A mistyped dataset: "did you mean", exit 2 (make: 2 as well, naming the command's 2).
  typo = _run([pipeline, 'run'], _fresh_shell(home, DATASET='texi'))
  assert typo.returncode == 2 and "did you mean 'taxi'?" in typo.stderr, typo.stderr
  # A run the pre-check refuses: 1 from the command; make exits 2 and names the 1.
  refused = _run([pipeline, 'run'], _fresh_shell(home, DATA_ROOT=str(empty)))
  assert refused.returncode == 1, refused.stdout + refused.stderr
  made = _run(['make', '--no-print-directory', 'run'], _fresh_shell(home, DATA_ROOT=str(empty)))
  assert made.returncode == 2 and re.search(r'make: \*\*\* \[Makefile:\d+: run\] Error 1',
                                            made.stderr), made.stderr
  # Both refused runs are listed, each with its data root and a log that says why.
  listed = _run(['make', '--no-print-directory', 'runs'], _fresh_shell(home))
  assert listed.returncode == 0, listed.stderr
  lines = listed.stdout.splitlines()
  refusals = [line for line in lines if ' failed ' in line]
  assert len(refusals) == 2 and all(' chicago-taxi ' in line for line in refusals), lines
  details = [line for line in lines if line.startswith('    data ')]
  assert all(f'data {empty};' in line and 'error: data folder' in line for line in details)
  log = Path(re.search(r'log (\S+);', details[-1])[1])
  assert f'data folder {empty} is empty' in log.read_text()
  assert _run([pipeline, 'runs'], _fresh_shell(home)).stdout == listed.stdout
