"""trainer/task.py: train and save on the default strategy, profiling, and a corrupt shard."""

import glob
import os

import pytest
import tensorflow as tf

from tests import taxi

from runs.report import readers
from tests.trainer import synthetic
from trainer import input_pipeline
from trainer import strategy as strategy_lib
from trainer import step_metrics
from trainer import task
from trainer.config import ModelConfig, TrainConfig


def _config(**overrides):
  values = dict(batch_size=16, eval_batch_size=16, monitor_calibration_steps=3,
                model=ModelConfig(hidden_units=(8,)))
  values.update(overrides)
  return TrainConfig(**values)


def _train(config, train_pattern, eval_pattern, log_dir, train_steps, eval_steps=None):
  distribution = strategy_lib.create(config, strategy_lib.Cluster())
  return distribution, task.train(distribution, config, taxi.TAXI, train_files=[train_pattern], eval_files=[eval_pattern],
      decode=synthetic.feature_spec(), train_steps=train_steps, eval_steps=eval_steps,
      log_dir=log_dir)


def test_trains_profiles_monitors_and_saves(tmp_path):
  synthetic.write_shards(str(tmp_path / 'train'), 4, 30)
  synthetic.write_shards(str(tmp_path / 'eval'), 2, 20, seed=1)
  log_dir = str(tmp_path / 'logs')
  config = _config(profile_steps=2, profile_start_step=1)
  distribution, model = _train(config, str(tmp_path / 'train' / '*.gz'),
                               str(tmp_path / 'eval' / '*.gz'), log_dir, train_steps=6)
  assert int(model.optimizer.iterations.numpy()) == 6
  # The profiler trace of steps 1-2, Keras' own logs and the input monitor's.
  assert glob.glob(os.path.join(log_dir, '**', '*.xplane.pb'), recursive=True)
  assert glob.glob(os.path.join(log_dir, 'train', 'events.out.tfevents.*'))
  assert glob.glob(os.path.join(log_dir, 'input', 'events.out.tfevents.*'))

  # Curves per step for the run report: train every step here (6 < 100), eval once (a short
  # run: the evaluations come at least 100 steps apart).
  scalars = readers.scalars(log_dir)
  assert [point.step for point in scalars['train']['batch_loss']] == [1, 2, 3, 4, 5, 6]
  assert [point.step for point in scalars['validation']['evaluation_loss_vs_iterations']] == [6]

  task.save_model(distribution, model, str(tmp_path / 'model'))
  loaded = tf.keras.models.load_model(str(tmp_path / 'model'))
  assert set(loaded.input) == set(model.input)
  # The weights only, not the optimizer's state.
  saved = [name for name, _ in tf.train.list_variables(
      str(tmp_path / 'model' / 'variables' / 'variables'))]
  assert any(name.startswith('layer_with_weights-') for name in saved)
  assert not [name for name in saved if name.startswith('optimizer/')]


@pytest.mark.parametrize('eval_steps', [None, 3])
def test_in_training_evaluation_reads_at_most_max_eval_examples(tmp_path, eval_steps):
  synthetic.write_shards(str(tmp_path / 'train'), 2, 20)
  synthetic.write_shards(str(tmp_path / 'eval'), 2, 20, seed=1)
  eval_pattern = str(tmp_path / 'eval' / '*.gz')
  # No validation slice: the weights trained last are the ones kept, and evaluated last.
  config = _config(monitor_calibration_steps=0, max_eval_examples=16, holdout_buckets=0)
  _, model = _train(config, str(tmp_path / 'train' / '*.gz'), eval_pattern,
                    str(tmp_path / 'logs'), train_steps=4, eval_steps=eval_steps)
  last_evaluation = model.history.history['val_loss'][-1]
  # The last evaluation ran on the trained weights: the same loss as evaluating the examples
  # it read now. Without EvalArgs steps, the first 16 of the 40; with them, their 3 batches.
  reads = input_pipeline.make_dataset(
      input_pipeline.input_config(config, taxi.TAXI, [eval_pattern], 16, is_training=False),
      synthetic.feature_spec())
  read = 16 if eval_steps is None else 48
  first = model.evaluate(reads.unbatch().take(read).batch(16), verbose=0, return_dict=True)
  every = model.evaluate(reads, verbose=0, return_dict=True)
  assert last_evaluation == pytest.approx(first['loss'], rel=1e-5)
  if eval_steps is None:
    # Told apart at the precision the equality above is checked with.
    assert first['loss'] != pytest.approx(every['loss'], rel=1e-5)


# Streamed (no cache: found mid-training) and held in memory (found while loading).
@pytest.mark.parametrize('cache_budget_bytes', [0, 1 << 30])
def test_corruption_found_mid_training_names_the_file(tmp_path, cache_budget_bytes):
  synthetic.write_shards(str(tmp_path / 'eval'), 1, 20, seed=1)
  # Uncompressed, so the up-front check reads the first record only and passes. (TF inflates a
  # small GZIP file's whole input buffer at once, so there it would fail up front instead.)
  [good, bad] = synthetic.write_shards(str(tmp_path / 'train'), 2, 200, compression='none')
  data = open(bad, 'rb').read()
  middle = len(data) // 2
  with open(bad, 'wb') as f:
    # Garbage mid-file: a record checksum fails. (Cutting the file short is not enough: a cut
    # on a record boundary reads as a clean end of file.)
    f.write(data[:middle] + b'\xff' * 16 + data[middle + 16:])
  input_pipeline.check_shards([bad])
  with pytest.raises(input_pipeline.CorruptShardError, match=bad):
    _train(_config(monitor_calibration_steps=0, cache_budget_bytes=cache_budget_bytes),
           str(tmp_path / 'train' / '*.tfrecord'), str(tmp_path / 'eval' / '*.gz'),
           str(tmp_path / 'logs'), train_steps=40)
  assert good != bad


def test_missing_training_files_are_named(tmp_path):
  synthetic.write_shards(str(tmp_path / 'eval'), 1, 20)
  with pytest.raises(FileNotFoundError, match='nothing-here'):
    _train(_config(), str(tmp_path / 'nothing-here' / '*.gz'), str(tmp_path / 'eval' / '*.gz'),
           str(tmp_path / 'logs'), train_steps=1)


@pytest.mark.parametrize('steps, evaluations', [
    (2000, 5), (6, 1), (60, 1), (400, 4), (510, 5), (700, 5), (701, 1), (1200, 5), (300, 3)])
def test_evaluations_divide_the_steps(steps, evaluations):
  assert step_metrics.evaluations(steps) == evaluations


def test_step_metrics_are_the_mean_of_the_last_steps_not_of_the_epoch(tmp_path):
  from runs.report import readers  # pylint: disable=import-outside-toplevel,reimported
  model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(1,))])
  model.compile(tf.keras.optimizers.SGD(0.0), 'mae')  # Frozen: each batch's loss is known.
  inputs = tf.zeros((8, 1))
  targets = tf.constant([[1.0], [1.0], [3.0], [3.0], [5.0], [5.0], [7.0], [7.0]])
  data = tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(2)  # Losses 1, 3, 5, 7.
  bias = model.layers[0].bias
  bias.assign([0.0])
  model.fit(data, epochs=1, verbose=0,
            callbacks=[step_metrics.StepMetrics(str(tmp_path), every=2)])
  points = readers.scalars(str(tmp_path.parent))[tmp_path.name]['batch_loss']
  # Steps 1-2: mean 2 (not the running mean); steps 3-4: mean 6 (the epoch's would be 4).
  assert [(point.step, round(point.value, 4)) for point in points] == [(2, 2.0), (4, 6.0)]
