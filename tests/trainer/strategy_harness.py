"""Trains and saves with trainer.task in a fresh process, for strategies that must be set up
before TensorFlow initialises its devices. tests/trainer/test_strategy.py starts it:

  python -m tests.trainer.strategy_harness MODE DATA_DIR OUT_DIR

MODE 'mirrored_cpus': MirroredStrategy over two logical CPU devices.
MODE 'multi_worker': strategy 'multi_worker' from this process's TF_CONFIG.
Prints one line `RESULT {json}` with what it did.
"""

import dataclasses
import json
import os
import sys

import tensorflow as tf

from tests import taxi

from tests.trainer import synthetic
from trainer import strategy as strategy_lib
from trainer import task
from trainer.config import ModelConfig, TrainConfig

TRAIN_STEPS = 4


def main(mode: str, data_dir: str, out_dir: str) -> None:
  config = TrainConfig(batch_size=16, eval_batch_size=16, strategy='default',
                       monitor_calibration_steps=2, model=ModelConfig(hidden_units=(8,)))
  result = {}
  if mode == 'mirrored_cpus':
    # Split the one physical CPU in two before TensorFlow initialises its devices.
    cpu = tf.config.list_physical_devices('CPU')[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    # The input monitor is exercised under multi_worker; here it would only add tracing time.
    config = dataclasses.replace(config, monitor_calibration_steps=0)
    distribution = strategy_lib.Distribution(
        strategy=tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1']), kind='mirrored',
        cluster=strategy_lib.Cluster())
    try:
      _train(distribution, TrainConfig(batch_size=33), data_dir, out_dir)
    except ValueError as error:
      result['odd_batch_error'] = str(error)
  else:
    config = dataclasses.replace(config, strategy='multi_worker')
    distribution = strategy_lib.create(
        config, strategy_lib.parse_tf_config(os.environ.get('TF_CONFIG')))
  model = _train(distribution, config, data_dir, out_dir)
  task.save_model(distribution, model, os.path.join(out_dir, 'model'))
  result.update(kind=distribution.kind, replicas=distribution.num_replicas,
                chief=distribution.is_chief, steps=int(model.optimizer.iterations.numpy()))
  print('RESULT ' + json.dumps(result), flush=True)


def _train(distribution, config, data_dir, out_dir):
  return task.train(distribution, config, taxi.TAXI,
      train_files=[os.path.join(data_dir, 'train', '*.gz')],
      eval_files=[os.path.join(data_dir, 'eval', '*.gz')],
      decode=synthetic.feature_spec(),
      train_steps=TRAIN_STEPS, eval_steps=None, log_dir=os.path.join(out_dir, 'logs'))


if __name__ == '__main__':
  main(*sys.argv[1:])
