"""trainer/strategy.py: choosing the strategy, and training under real strategies on CPU.

MirroredStrategy and MultiWorkerMirroredStrategy run in fresh processes
(tests/trainer/strategy_harness.py): devices and collectives are set up before TensorFlow
initialises, which this test process has already done.
"""

import json
import logging
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import REPO_ROOT
from tests.trainer import synthetic
from trainer import strategy as strategy_lib
from trainer import task
from trainer.config import ModelConfig, TrainConfig
from tests import taxi

_TIMEOUT = 240


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
  root = tmp_path_factory.mktemp('strategy_data')
  synthetic.write_shards(str(root / 'train'), num_files=4, rows_per_file=40)
  synthetic.write_shards(str(root / 'eval'), num_files=2, rows_per_file=32, seed=1)
  return root


def _harness(mode, data_dir, out_dir, tf_config=None):
  env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
  env.pop('TF_CONFIG', None)
  if tf_config:
    env['TF_CONFIG'] = json.dumps(tf_config)
  return subprocess.Popen(
      [sys.executable, '-m', 'tests.trainer.strategy_harness', mode, str(data_dir),
       str(out_dir)], env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE,
      stderr=subprocess.STDOUT, text=True)


def _result(process):
  try:
    output, _ = process.communicate(timeout=_TIMEOUT)
  finally:
    process.kill()
  assert process.returncode == 0, output[-5000:]
  lines = [line for line in output.splitlines() if line.startswith('RESULT ')]
  assert lines, output[-5000:]
  return json.loads(lines[-1][len('RESULT '):])


def _assert_model_predicts(model_dir):
  model = tf.keras.models.load_model(str(model_dir))
  batch = next(iter(tf.data.TFRecordDataset(
      synthetic.write_shards(str(model_dir.parent / 'check'), 1, 5), 'GZIP').batch(5)))
  spec = synthetic.feature_spec()
  inputs = tf.io.parse_example(batch, spec)
  inputs.pop(taxi.LABEL_KEY)
  predictions = model.predict(inputs, verbose=0)
  assert predictions.shape == (5, 1)
  assert np.all((predictions >= 0) & (predictions <= 1))


def _free_port():
  with socket.socket() as sock:
    sock.bind(('127.0.0.1', 0))
    return sock.getsockname()[1]


@pytest.mark.integration  # Trains in a fresh process.
@pytest.mark.timeout(_TIMEOUT + 30)
def test_mirrored_over_two_logical_cpus_trains_and_saves(data_dir, tmp_path):
  result = _result(_harness('mirrored_cpus', data_dir, tmp_path))
  assert result['replicas'] == 2
  assert result['steps'] == 4
  assert result['odd_batch_error'] == ('batch_size 33 does not divide across 2 replicas '
                                       '(33 % 2 = 1): use a multiple of 2')
  _assert_model_predicts(tmp_path / 'model')


@pytest.mark.integration  # Trains in two fresh processes.
@pytest.mark.timeout(_TIMEOUT + 30)
def test_multi_worker_trains_and_only_the_chief_keeps_the_model(data_dir, tmp_path):
  workers = [f'127.0.0.1:{_free_port()}' for _ in range(2)]
  processes = [
      _harness('multi_worker', data_dir, tmp_path / f'worker{index}',
               {'cluster': {'worker': workers}, 'task': {'type': 'worker', 'index': index}})
      for index in range(2)
  ]
  try:
    results = [_result(process) for process in processes]
  finally:
    for process in processes:
      process.kill()
  assert [result['chief'] for result in results] == [True, False]
  assert all(result['kind'] == 'multi_worker' and result['replicas'] == 2
             for result in results)
  _assert_model_predicts(tmp_path / 'worker0' / 'model')
  assert not (tmp_path / 'worker1' / 'model').exists()
  assert not (tmp_path / 'worker1' / 'logs').exists()


@pytest.mark.parametrize('kind, asked', [('tpu', 'asked for a TPU'),
                                         ('mirrored', 'asked for GPUs')])
def test_missing_accelerator_is_an_error_naming_what_exists(kind, asked):
  with pytest.raises(strategy_lib.AcceleratorNotFoundError) as error:
    strategy_lib.create(TrainConfig(strategy=kind), strategy_lib.Cluster())
  message = str(error.value)
  assert f"strategy '{kind}' {asked}, but none was found" in message
  assert 'devices here: /physical_device:CPU:0' in message
  assert "on_missing_accelerator='fallback'" in message


def test_missing_accelerator_with_fallback_trains_with_the_default_strategy(
    data_dir, tmp_path, caplog):
  config = TrainConfig(strategy='tpu', on_missing_accelerator='fallback', batch_size=16,
                       eval_batch_size=16, monitor_calibration_steps=0,
                       model=ModelConfig(hidden_units=(8,)))
  with caplog.at_level(logging.WARNING):
    distribution = strategy_lib.create(config, strategy_lib.Cluster())
  assert distribution.kind == 'default'
  assert distribution.num_replicas == 1
  assert any("strategy 'tpu' asked for a TPU" in record.getMessage() and
             'training with the default strategy' in record.getMessage()
             for record in caplog.records)
  model = task.train(distribution, config, taxi.TAXI, train_files=[str(data_dir / 'train' / '*.gz')],
                     eval_files=[str(data_dir / 'eval' / '*.gz')],
                     decode=synthetic.feature_spec(), train_steps=3, eval_steps=1,
                     log_dir=str(tmp_path / 'logs'))
  assert int(model.optimizer.iterations.numpy()) == 3


def test_auto_without_accelerators_or_cluster_is_the_default_strategy():
  distribution = strategy_lib.create(TrainConfig(), strategy_lib.Cluster())
  assert distribution.kind == 'default'
  assert distribution.is_chief


def test_multi_worker_without_a_cluster_is_rejected():
  with pytest.raises(ValueError, match="'multi_worker' needs TF_CONFIG"):
    strategy_lib.create(TrainConfig(strategy='multi_worker'), strategy_lib.Cluster())


def test_tf_config_parsing_and_chief():
  workers = {'worker': ['a:1', 'b:2']}
  worker0 = strategy_lib.parse_tf_config(
      json.dumps({'cluster': workers, 'task': {'type': 'worker', 'index': 0}}))
  worker1 = strategy_lib.parse_tf_config(
      json.dumps({'cluster': workers, 'task': {'type': 'worker', 'index': 1}}))
  with_chief = strategy_lib.parse_tf_config(json.dumps(
      {'cluster': {'chief': ['c:0'], **workers}, 'task': {'type': 'worker', 'index': 0}}))
  assert (worker0.num_workers, worker0.is_chief, worker1.is_chief) == (2, True, False)
  assert (with_chief.num_workers, with_chief.is_chief) == (3, False)
  assert strategy_lib.parse_tf_config('') == strategy_lib.Cluster()
  assert strategy_lib.parse_tf_config(None).is_chief


@pytest.mark.parametrize('text, message', [
    ('{not json', 'TF_CONFIG is not valid JSON'),
    (json.dumps({'cluster': {'worker': ['a:1']}, 'task': {'type': 'worker', 'index': 3}}),
     "task index 3 is out of range for job 'worker' of 1 task"),
    (json.dumps({'cluster': {'worker': ['a:1']}, 'task': {'type': 'ps', 'index': 0}}),
     "task type 'ps' is not a job of the cluster \\['worker'\\]"),
])
def test_bad_tf_config_is_rejected(text, message):
  with pytest.raises(ValueError, match=message):
    strategy_lib.parse_tf_config(text)


def test_global_batch_must_divide_across_replicas():
  assert strategy_lib.per_replica_batch_size(128, 4, 'batch_size') == 32
  with pytest.raises(ValueError, match='eval_batch_size 10 does not divide across 4 replicas'):
    strategy_lib.per_replica_batch_size(10, 4, 'eval_batch_size')
