"""Artifacts written once per session (tf.summary and TFRecord writing import TensorFlow)."""

import shutil

import pytest

from core.home import PipelineHome
from tests.runs.report import fixtures


@pytest.fixture(scope='session')
def artifact_root(tmp_path_factory):
  return tmp_path_factory.mktemp('report_artifacts')


@pytest.fixture(scope='session')
def uris(artifact_root):
  """{name: artifact folder} of a successful run (fixtures.artifacts)."""
  return fixtures.artifacts(artifact_root / 'pipeline_root')


@pytest.fixture
def home(tmp_path):
  """An empty pipeline home."""
  path = tmp_path / 'home'
  path.mkdir()
  yield PipelineHome(path)
  shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope='session')
def chromium():
  """Debian's headless Chromium, installed with apt-get when missing (needs root); the tests
  that use it skip, saying why, only when it cannot be installed."""
  import os  # pylint: disable=import-outside-toplevel
  import subprocess  # pylint: disable=import-outside-toplevel
  found = shutil.which('chromium')
  if found:
    return found
  env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
  for command in (['apt-get', 'update'], ['apt-get', 'install', '-y', 'chromium']):
    try:
      result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1200,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
      pytest.skip(f'chromium is not installed and `{" ".join(command)}` could not run: {error}')
    if result.returncode != 0:
      pytest.skip(f'chromium is not installed and `{" ".join(command)}` failed '
                  f'(exit {result.returncode}): {result.stderr.strip()[-300:]}')
  found = shutil.which('chromium')
  if not found:
    pytest.skip('apt-get installed chromium but no `chromium` is on PATH')
  return found
