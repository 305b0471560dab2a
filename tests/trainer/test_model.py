"""trainer/model.py: the Keras model builds, predicts probabilities, and rejects bad configs."""

import numpy as np
import pytest
import tensorflow as tf

from trainer import model as model_lib
from trainer.config import ModelConfig
from transform import features

_BATCH = 6


def _batch():
  """Valid inputs, ids spanning each feature's whole range (0 and the largest id)."""
  rng = np.random.default_rng(0)
  batch = {name: tf.constant(rng.normal(size=_BATCH), tf.float32)
           for name in features.transformed_names(features.DENSE_FLOAT_FEATURE_KEYS)}
  for name, num_ids in model_lib.id_feature_sizes().items():
    ids = rng.integers(num_ids, size=_BATCH)
    ids[0], ids[-1] = 0, num_ids - 1
    batch[name] = tf.constant(ids, tf.int64)
  return batch


def test_every_transformed_feature_is_a_model_input():
  model = model_lib.build_keras_model(ModelConfig(hidden_units=(8,)))
  expected = set(features.transformed_names(features.DENSE_FLOAT_FEATURE_KEYS))
  expected |= set(model_lib.id_feature_sizes())
  assert set(model.input) == expected
  assert features.TRANSFORMED_LABEL_KEY not in model.input


def test_predicts_one_probability_per_example():
  model = model_lib.build_keras_model(ModelConfig(hidden_units=(16, 8), dropout=0.0))
  predictions = model(_batch(), training=False).numpy()
  assert predictions.shape == (_BATCH, 1)
  assert np.all((predictions >= 0.0) & (predictions <= 1.0))


def test_is_compiled_and_trains_a_step():
  model = model_lib.build_keras_model(ModelConfig(hidden_units=(8,)))
  labels = tf.constant([0, 1] * (_BATCH // 2), tf.int64)
  logs = model.train_on_batch(_batch(), labels, return_dict=True)
  assert set(logs) == {'loss', 'binary_accuracy'}
  assert np.isfinite(logs['loss'])


@pytest.mark.parametrize('overrides, message', [
    (dict(hidden_units=()), 'hidden_units must be positive layer sizes, got \\(\\)'),
    (dict(hidden_units=(8, 0)), 'got \\(8, 0\\)'),
    (dict(embedding_dim=0), 'embedding_dim must be >= 1, got 0'),
    (dict(dropout=1.0), 'dropout must be in \\[0, 1\\), got 1.0'),
    (dict(learning_rate=0.0), 'learning_rate must be > 0, got 0.0'),
])
def test_bad_model_config_is_rejected(overrides, message):
  with pytest.raises(ValueError, match=message):
    ModelConfig(**overrides)
