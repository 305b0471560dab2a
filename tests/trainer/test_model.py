"""trainer/model.py (with each task kind's head, datadefs/tasks.py) and sizing.py: the Keras
model of each task builds, predicts and trains; steps from the row count; bad configs are
rejected."""

import numpy as np
import math

import pytest
import tensorflow as tf

import datadefs
from datadefs import tasks
from trainer import model as model_lib
from trainer import sizing
from trainer.config import ModelConfig, TrainConfig
from tests import taxi

_BATCH = 6


def _batch():
  """Valid inputs, ids spanning each feature's whole range (0 and the largest id)."""
  rng = np.random.default_rng(0)
  batch = {name: tf.constant(rng.normal(size=_BATCH), tf.float32)
           for name in taxi.NUMERIC}
  for name, num_ids in model_lib.id_feature_sizes(taxi.TAXI).items():
    ids = rng.integers(num_ids, size=_BATCH)
    ids[0], ids[-1] = 0, num_ids - 1
    batch[name] = tf.constant(ids, tf.int64)
  return batch


def test_every_transformed_feature_is_a_model_input():
  model = model_lib.build_keras_model(taxi.TAXI, ModelConfig(hidden_units=(8,)))
  expected = set(taxi.NUMERIC)
  expected |= set(model_lib.id_feature_sizes(taxi.TAXI))
  assert set(model.input) == expected
  assert taxi.LABEL_KEY not in model.input


def test_predicts_one_probability_per_example():
  model = model_lib.build_keras_model(taxi.TAXI, ModelConfig(hidden_units=(16, 8), dropout=0.0))
  predictions = model(_batch(), training=False).numpy()
  assert predictions.shape == (_BATCH, 1)
  assert np.all((predictions >= 0.0) & (predictions <= 1.0))


def test_is_compiled_and_trains_a_step():
  model = model_lib.build_keras_model(taxi.TAXI, ModelConfig(hidden_units=(8,)))
  labels = tf.constant([0, 1] * (_BATCH // 2), tf.int64)
  logs = model.train_on_batch(_batch(), labels, return_dict=True)
  assert set(logs) == {'loss', 'binary_accuracy'}
  assert np.isfinite(logs['loss'])


@pytest.mark.parametrize('overrides, message', [
    (dict(l2=-0.5), 'l2 must be >= 0 \\(or -1: from the row count\\), got -0.5'),
    (dict(hidden_units=(8, 0)), 'got \\(8, 0\\)'),
    (dict(embedding_dim=0), 'embedding_dim must be >= 1, got 0'),
    (dict(dropout=1.0), 'dropout must be in \\[0, 1\\), got 1.0'),
    (dict(learning_rate=0.0), 'learning_rate must be > 0, got 0.0'),
])
def test_bad_model_config_is_rejected(overrides, message):
  with pytest.raises(ValueError, match=message):
    ModelConfig(**overrides)


def _inputs(dataset, rows=4):
  rng = np.random.default_rng(1)
  batch = {name: tf.constant(rng.normal(size=rows), tf.float32)
           for name in model_lib.build_keras_model(dataset).input
           if name not in model_lib.id_feature_sizes(dataset)}
  for name, num_ids in model_lib.id_feature_sizes(dataset).items():
    batch[name] = tf.constant(rng.integers(num_ids, size=rows), tf.int64)
  return batch


def test_multiclass_head_is_a_softmax_over_the_classes():
  penguins = datadefs.load('penguins')
  model = model_lib.build_keras_model(penguins, ModelConfig(hidden_units=(8,)))
  probabilities = model(_inputs(penguins), training=False).numpy()
  assert probabilities.shape == (4, 3)
  np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
  logs = model.train_on_batch(_inputs(penguins), tf.constant([0, 1, 2, 1]), return_dict=True)
  assert set(logs) == {'loss', 'sparse_categorical_accuracy'}


def test_regression_head_predicts_around_the_label_mean():
  fare = datadefs.load('taxi_fare')
  model = model_lib.build_keras_model(fare, ModelConfig(hidden_units=(8,), dropout=0.0),
                                      tasks.Moments(mean=12.0, std=0.001))
  predictions = model(_inputs(fare), training=False).numpy()
  assert predictions.shape == (4, 1)
  # A tiny spread: whatever the untrained layer says, predictions sit at the mean.
  np.testing.assert_allclose(predictions, 12.0, atol=0.1)
  logs = model.train_on_batch(_inputs(fare), tf.constant([10.0, 11.0, 12.0, 13.0]),
                              return_dict=True)
  assert set(logs) == {'loss', 'mean_absolute_error'}


def test_unknown_task_is_refused():
  with pytest.raises(ValueError, match=r"task must be one of \['binary', 'multiclass', "
                     r"'regression'\], got 'x'"):
    tasks.task('x')


@pytest.mark.parametrize('rows, batch', [
    (230, 14),      # Tiny: batch rows/16.
    (10_000, 128),
    (10_000_000, 128),
])
def test_steps_and_batch_from_the_row_count(rows, batch):
  config, train_steps = sizing.fit_to_rows(TrainConfig(), rows)
  passes = math.ceil(sizing.EPOCHS * rows / batch)
  assert config.batch_size == batch
  # EPOCHS passes within [MIN_STEPS, MAX_STEPS], rounded up to whole validation checks.
  assert train_steps % sizing.CHECKS == 0
  assert train_steps - sizing.CHECKS < min(sizing.MAX_STEPS, max(sizing.MIN_STEPS, passes)) \
      <= train_steps


def test_network_and_penalty_from_the_row_count_unless_configured():
  small, _ = sizing.fit_to_rows(TrainConfig(), 1_000)
  large, _ = sizing.fit_to_rows(TrainConfig(), 10_000_000)
  assert sum(small.model.hidden_units) < sum(large.model.hidden_units)
  assert small.model.l2 > large.model.l2 == 0.0
  configured, _ = sizing.fit_to_rows(
      TrainConfig(model=ModelConfig(hidden_units=(4,), l2=0.0)), 1_000)
  assert (configured.model.hidden_units, configured.model.l2) == ((4,), 0.0)


def test_sized_batch_splits_over_replicas():
  config, _ = sizing.fit_to_rows(TrainConfig(), 230, num_replicas=4)
  assert config.batch_size == 12


def test_empty_training_split_is_named():
  with pytest.raises(ValueError, match='the training split is empty'):
    sizing.fit_to_rows(TrainConfig(), 0)


def test_records_are_counted_across_gzip_and_uncompressed_shards(tmp_path):
  from tests.trainer import synthetic  # pylint: disable=import-outside-toplevel
  synthetic.write_shards(str(tmp_path), 2, 7)
  synthetic.write_shards(str(tmp_path / 'plain'), 3, 5, compression='none')
  assert sizing.count_records([str(tmp_path / '*.gz'), str(tmp_path / 'plain' / '*')]) == 29


def test_every_model_a_data_kind_offers_is_built_by_name():
  from datadefs import kinds  # pylint: disable=import-outside-toplevel
  for kind in kinds.KINDS.values():
    assert set(kind.models) <= set(model_lib.MODELS), kind


def test_the_model_is_chosen_by_name_and_an_unknown_one_is_refused(tmp_path):
  assert taxi.TAXI.model_name == 'mlp'
  definition = (datadefs.load('penguins').schema_path.replace('schema.pbtxt', 'dataset.toml'))
  text = open(definition).read().replace('task = "multiclass"',
                                         'task = "multiclass"\nmodel = "forest"')
  (tmp_path / 'dataset.toml').write_text(text)
  (tmp_path / 'schema.pbtxt').write_text('')
  with pytest.raises(datadefs.DatasetError, match=r"model: must be one of \['', 'mlp', "
                     r"'gradient_boosted_trees'\], got 'forest'"):
    datadefs.load(str(tmp_path))
