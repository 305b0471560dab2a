"""The tfx CLI drives the same pipeline: `tfx pipeline create` then `tfx run create`, local engine."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.e2e

TFX = str(Path(sys.executable).parent / 'tfx')


def _tfx(args, env):
  return subprocess.run([TFX, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                        timeout=900, check=False)


def test_tfx_cli_create_and_run_local(tmp_path, taxi_slice_root):
  env = dict(os.environ, LOCAL_HOME=str(tmp_path / 'tfx_cli_home'),
             PIPELINE_HOME=str(tmp_path / 'pipeline_home'), DATA_ROOT=str(taxi_slice_root),
             TRAIN_STEPS='100')

  created = _tfx(['pipeline', 'create', '--engine=local', '--pipeline_path=local_runner.py'], env)
  assert created.returncode == 0, created.stdout + created.stderr[-3000:]
  assert 'Pipeline "chicago-taxi" created successfully.' in created.stdout
  # `pipeline create` only records the pipeline: nothing ran yet.
  assert not (tmp_path / 'pipeline_home' / 'serving_model').exists()

  ran = _tfx(['run', 'create', '--engine=local', '--pipeline_name=chicago-taxi'], env)
  assert ran.returncode == 0, ran.stdout + ran.stderr[-3000:]
  pushed = list((tmp_path / 'pipeline_home' / 'serving_model').rglob('saved_model.pb'))
  assert len(pushed) == 1
