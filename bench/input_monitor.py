"""The input monitor's verdict on a finished taxi run's Transform output, with the Trainer's own
input, with the one batch the monitor's clone trains on (the input at its ceiling), and with a
decode step slowed by SLOW_MS per batch (deliberately input-bound):

    python -m bench.input_monitor --home pipeline_home [--slow-ms 10] [--epochs 5]

Prints each epoch's verdict (trainer/input_monitor.py) for each, and the step minus the clone's
compute as a share of the step (the measure the monitor judged by before), as
docs/input-pipeline.md quotes them. Needs a pipeline home where `make run` (DATASET=taxi) has finished.
"""

import argparse
import dataclasses
import glob
import tempfile
import time

import tensorflow as tf
import tensorflow_transform as tft

import datadefs
from trainer import input_monitor
from trainer import input_pipeline
from trainer import kinds
from trainer import model as model_lib
from trainer.config import TrainConfig


def _slow(dataset, seconds: float):
  def wait(label):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:  # CPU work, as a slow decode is
      pass
    return label
  return dataset.map(lambda features, label: (features, tf.ensure_shape(tf.numpy_function(
      wait, [label], label.dtype, stateful=True), label.shape))).prefetch(2)


def run(home: str, slow_ms: float, epochs: int, steps: int) -> None:
  dataset = datadefs.load('taxi')
  root = f'{home}/pipeline_root/Transform'
  [graph] = glob.glob(f'{root}/transform_graph/*')[-1:]
  [examples] = glob.glob(f'{root}/transformed_examples/*')[-1:]
  decode = kinds.decoder(dataset, tft.TFTransformOutput(graph).transformed_feature_spec())
  config = TrainConfig()
  train_input = input_pipeline.input_config(config, dataset, [f'{examples}/Split-train/*'],
                                            config.batch_size, is_training=True)
  one_batch = dataclasses.replace(train_input, cache=False, in_memory=False)
  calibration = input_pipeline.make_dataset(one_batch, decode).take(1).cache().repeat()
  for name, slow in (('the Trainer\'s input', 0.0), ('the one batch in memory', None),
                     (f'a decode {slow_ms:g} ms slower', slow_ms)):
    if slow is None:
      train = calibration
    else:
      train = input_pipeline.make_dataset(train_input, decode)
    if slow:
      train = _slow(train, slow / 1e3)
    model = model_lib.build(dataset, config.model)
    with tempfile.TemporaryDirectory() as log_dir:
      monitor = input_monitor.InputMonitor(calibration, log_dir, input_data=train)
      model.fit(train, epochs=epochs, steps_per_epoch=steps, callbacks=[monitor], verbose=0)
    print(f'{name}:')
    for report in monitor.reports:
      print(f'  epoch {report.epoch}: step - compute {report.wait_share:.0%}; '
            f'{report.explain()}')


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--home', default='pipeline_home')
  parser.add_argument('--slow-ms', type=float, default=10.0)
  parser.add_argument('--epochs', type=int, default=5)
  parser.add_argument('--steps', type=int, default=100)
  args = parser.parse_args()
  run(args.home, args.slow_ms, args.epochs, args.steps)


if __name__ == '__main__':
  main()
