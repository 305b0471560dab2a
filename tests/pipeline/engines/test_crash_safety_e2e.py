"""kill -9 in the middle of Transform and of the Trainer, then run again: the run completes,
reuses what had finished, and consumes no artifact of a killed execution. A second run started
while one is going fails at once, naming the holder, and leaves the first run alone."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import ml_metadata as mlmd
import pytest
import tensorflow as tf
from ml_metadata.proto import metadata_store_pb2

from tests.conftest import REPO_ROOT, cli_env, read_last_run, run_cli

pytestmark = pytest.mark.e2e


def _start(home, data_root, train_steps):
  return subprocess.Popen([sys.executable, '-m', 'pipeline', 'run'],
                          env=cli_env(home, data_root, train_steps), cwd=REPO_ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          start_new_session=True)


def _wait_until_running(home: Path, component: str, process, timeout=600) -> None:
  """Waits for the run's log to say `component` started (its executor then runs a while)."""
  deadline = time.monotonic() + timeout
  marker = f'Component {component} is running.'
  while time.monotonic() < deadline:
    if process.poll() is not None:
      pytest.fail(f'the run ended (exit {process.returncode}) before {component} started')
    logs = sorted((home / 'logs').glob('run-*.log'), key=lambda p: p.stat().st_mtime)
    if logs and marker in logs[-1].read_text(errors='replace'):
      time.sleep(3)  # Let the executor start writing its outputs.
      return
    time.sleep(0.5)
  pytest.fail(f'{component} did not start within {timeout}s')


def _kill(process) -> None:
  os.killpg(process.pid, signal.SIGKILL)
  process.wait(timeout=60)


def _store(home: Path) -> mlmd.MetadataStore:
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = str(home / 'metadata.sqlite')
  return mlmd.MetadataStore(config)


def _inputs_of_latest(store, component_type_suffix: str):
  """(execution, [(input artifact, producing execution)]) of the newest execution of a type."""
  executions = [e for e in store.get_executions()
                if e.type.endswith(component_type_suffix)]
  latest = max(executions, key=lambda e: e.id)
  events = store.get_events_by_execution_ids([latest.id])
  inputs = store.get_artifacts_by_id(
      [e.artifact_id for e in events if e.type == metadata_store_pb2.Event.INPUT])
  pairs = []
  for artifact in inputs:
    producers = [e.execution_id for e in store.get_events_by_artifact_ids([artifact.id])
                 if e.type == metadata_store_pb2.Event.OUTPUT]
    pairs.append((artifact, store.get_executions_by_id(producers)[0]))
  return latest, pairs


def _assert_consumed_only_finished_outputs(store, component_type_suffix):
  execution, pairs = _inputs_of_latest(store, component_type_suffix)
  assert execution.last_known_state == metadata_store_pb2.Execution.COMPLETE
  finished = (metadata_store_pb2.Execution.COMPLETE, metadata_store_pb2.Execution.CACHED)
  for artifact, producer in pairs:
    assert artifact.state == metadata_store_pb2.Artifact.LIVE, artifact.uri
    assert producer.last_known_state in finished, (artifact.uri, producer)


def test_killed_runs_recover_and_concurrent_runs_are_refused(tmp_path, taxi_slice_root):
  home = tmp_path / 'home'

  # 1. A run is killed in the middle of Transform; a second run meanwhile is refused.
  first = _start(home, taxi_slice_root, train_steps=150)
  _wait_until_running(home, 'Transform', first)
  concurrent = run_cli(['run'], home, data_root=taxi_slice_root, train_steps=150, timeout=120)
  assert concurrent.returncode == 3
  assert f'another run is using {home}' in concurrent.stderr
  assert f'pid {first.pid}' in concurrent.stderr
  assert not (home / 'last_run.json').exists()  # The refused run wrote nothing.
  _kill(first)

  # 2. Run again: completes, reusing what had finished before the kill.
  second = run_cli(['run'], home, data_root=taxi_slice_root, train_steps=150)
  assert second.returncode == 0, second.stdout + second.stderr[-2000:]
  summary = read_last_run(home)
  cached = {c['name'] for c in summary['components'] if c['cached']}
  # (AnomaliesGate re-runs: the killed run's accepted statistics are now its drift baseline.)
  assert {'CsvExampleGen', 'StatisticsGen', 'ExampleValidator'} <= cached
  assert 'Transform' not in cached
  store = _store(home)
  _assert_consumed_only_finished_outputs(store, 'Trainer')

  # 3. A retrain (new step count) is killed in the middle of the Trainer.
  third = _start(home, taxi_slice_root, train_steps=151)
  _wait_until_running(home, 'Trainer', third)
  _kill(third)

  # 4. Run again: Transform is reused, the Trainer runs anew, and the model it saved loads.
  fourth = run_cli(['run'], home, data_root=taxi_slice_root, train_steps=151)
  assert fourth.returncode == 0, fourth.stdout + fourth.stderr[-2000:]
  summary = read_last_run(home)
  cached = {c['name'] for c in summary['components'] if c['cached']}
  assert 'Transform' in cached and 'Trainer' not in cached
  _assert_consumed_only_finished_outputs(_store(home), 'Evaluator')
  _assert_consumed_only_finished_outputs(_store(home), 'Pusher')
  model = [a for a, _ in _inputs_of_latest(_store(home), 'Pusher')[1]
           if '/Trainer/model/' in a.uri][0]
  loaded = tf.saved_model.load(str(Path(model.uri) / 'Format-Serving'))
  assert 'serving_default' in loaded.signatures
  # Pushed only if the Evaluator blessed it against the model of step 2.
  assert (summary['pushed_model'] is not None) == summary['blessed']
