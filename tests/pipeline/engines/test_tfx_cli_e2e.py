"""The tfx CLI drives the same pipeline: `tfx pipeline create` then `tfx run create`, local engine.

It runs against `default_run`'s pipeline home with the same data and settings, so every
component is reused from the cache: the run proves the CLI runs this very pipeline (same
components, same cache keys), without paying for training again.
"""

import os
import subprocess
import sys
from pathlib import Path

import ml_metadata as mlmd
import pytest
from ml_metadata.proto import metadata_store_pb2

from tests.conftest import REPO_ROOT
from tests.pipeline.engines.test_local_run_e2e import COMPONENTS

pytestmark = pytest.mark.e2e

TFX = str(Path(sys.executable).parent / 'tfx')


def _tfx(args, env):
  return subprocess.run([TFX, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                        timeout=900, check=False)


def _runs(home: Path):
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = str(home / 'metadata.sqlite')
  store = mlmd.MetadataStore(config)
  return store, store.get_contexts_by_type('pipeline_run')


def test_tfx_cli_create_and_run_local(tmp_path, default_run):
  home = default_run['home']
  env = dict(os.environ, LOCAL_HOME=str(tmp_path / 'tfx_cli_home'), PIPELINE_HOME=str(home))
  for name in ('DATA_ROOT', 'TRAIN_STEPS', 'INPUT_PATTERN', 'DATA_SOURCE'):
    env.pop(name, None)
  _, runs_before = _runs(home)

  created = _tfx(['pipeline', 'create', '--engine=local', '--pipeline_path=local_runner.py'], env)
  assert created.returncode == 0, created.stdout + created.stderr[-3000:]
  assert 'Pipeline "chicago-taxi" created successfully.' in created.stdout
  assert len(_runs(home)[1]) == len(runs_before)  # `pipeline create` only records it.

  ran = _tfx(['run', 'create', '--engine=local', '--pipeline_name=chicago-taxi'], env)
  assert ran.returncode == 0, ran.stdout + ran.stderr[-3000:]
  store, runs = _runs(home)
  assert len(runs) == len(runs_before) + 1
  newest = max(runs, key=lambda context: context.id)
  executions = store.get_executions_by_context(newest.id)
  nodes = set()
  for execution in executions:
    assert execution.last_known_state in (metadata_store_pb2.Execution.COMPLETE,
                                          metadata_store_pb2.Execution.CACHED)
    nodes |= {c.name.split('.', 1)[-1] for c in store.get_contexts_by_execution(execution.id)
              if c.type == 'node'}
  assert set(COMPONENTS) <= nodes
