"""trainer/batch_norm.py: BatchNorm's moving statistics re-estimated at the final weights, under
the default strategy and a MirroredStrategy (distributed batches, per-replica statistics), put
back when the validation slice's loss would be worse."""

import numpy as np
import pytest
import tensorflow as tf

from trainer import batch_norm

_TRAINED_MOMENTUM = 0.99  # Keras' default: the one whose statistics lag most


def _model():
  """x -> Dense(3) with fixed weights -> BatchNorm whose moving statistics are stale."""
  inputs = tf.keras.Input(shape=(4,), name='x')
  dense = tf.keras.layers.Dense(3, kernel_initializer=tf.keras.initializers.Constant(
      [[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), use_bias=False)
  norm = tf.keras.layers.BatchNormalization(momentum=_TRAINED_MOMENTUM)
  model = tf.keras.Model({'x': inputs}, norm(dense(inputs)))
  norm.moving_mean.assign([-5.0, -5.0, -5.0])
  norm.moving_variance.assign([9.0, 9.0, 9.0])
  return model, norm


def _batches():
  rows = np.random.default_rng(0).normal(2.0, 3.0, size=(64, 4)).astype(np.float32)
  return rows, tf.data.Dataset.from_tensor_slices(
      ({'x': rows}, np.zeros(64, np.int64))).batch(16, drop_remainder=True).repeat()


@pytest.mark.parametrize('strategy_name', ['default', 'mirrored'])
def test_statistics_become_those_of_the_training_batches_at_the_final_weights(strategy_name):
  strategy = (tf.distribute.MirroredStrategy(['/cpu:0']) if strategy_name == 'mirrored'
              else tf.distribute.get_strategy())
  rows, batches = _batches()
  with strategy.scope():
    model, norm = _model()
  weights = [w.copy() for w in model.get_weights() if w.shape == (4, 3)]
  data = (strategy.experimental_distribute_dataset(batches) if strategy_name == 'mirrored'
          else batches)

  result = batch_norm.recalibrate(model, strategy, data, steps=60)

  outputs = rows @ weights[0]
  # Every batch is one of four; their mean is the data's. After 60 passes at momentum 0.9 the
  # stale -5 keeps a weight of 0.9 ** 60 (0.2%).
  np.testing.assert_allclose(norm.moving_mean.numpy(), outputs.mean(axis=0), atol=0.3)
  batch_variances = np.mean([outputs[i:i + 16].var(axis=0) for i in range(0, 64, 16)], axis=0)
  np.testing.assert_allclose(norm.moving_variance.numpy(), batch_variances, rtol=0.15)
  assert norm.momentum == _TRAINED_MOMENTUM  # the layer's own momentum is back
  np.testing.assert_array_equal(  # no weight moved
      [w for w in model.get_weights() if w.shape == (4, 3)][0], weights[0])
  assert result == batch_norm.Recalibration(steps=60)


def test_statistics_that_make_the_slice_loss_worse_are_put_back():
  _, batches = _batches()
  model, norm = _model()
  losses = iter([0.5, 0.7])  # before, after
  result = batch_norm.recalibrate(model, tf.distribute.get_strategy(), batches, steps=5,
                                  slice_loss=lambda: next(losses))
  assert result == batch_norm.Recalibration(5, 0.5, 0.7, kept=False)
  np.testing.assert_array_equal(norm.moving_mean.numpy(), [-5.0] * 3)
  np.testing.assert_array_equal(norm.moving_variance.numpy(), [9.0] * 3)


def test_statistics_that_keep_or_improve_the_slice_loss_stay():
  _, batches = _batches()
  model, norm = _model()
  losses = iter([0.5, 0.5])
  result = batch_norm.recalibrate(model, tf.distribute.get_strategy(), batches, steps=5,
                                  slice_loss=lambda: next(losses))
  assert result.kept
  assert norm.moving_mean.numpy()[0] > -4.0


def test_a_loss_before_that_is_given_is_not_measured_again():
  _, batches = _batches()
  model, _ = _model()
  losses = iter([0.4])  # after only
  result = batch_norm.recalibrate(model, tf.distribute.get_strategy(), batches, steps=5,
                                  slice_loss=lambda: next(losses), loss_before=0.3)
  assert result == batch_norm.Recalibration(5, 0.3, 0.4, kept=False)


def test_models_without_batch_norm_or_steps_are_left_alone():
  _, batches = _batches()
  inputs = tf.keras.Input(shape=(4,), name='x')
  plain = tf.keras.Model({'x': inputs}, tf.keras.layers.Dense(1)(inputs))
  assert batch_norm.recalibrate(plain, tf.distribute.get_strategy(), batches, 50) is None
  model, norm = _model()
  assert batch_norm.recalibrate(model, tf.distribute.get_strategy(), batches, 0) is None
  np.testing.assert_array_equal(norm.moving_mean.numpy(), [-5.0] * 3)


def test_nested_models_batch_norm_layers_are_found():
  inner, _ = _model()
  inputs = tf.keras.Input(shape=(4,), name='x')
  outer = tf.keras.Model({'x': inputs}, tf.keras.layers.Dense(1)(inner({'x': inputs})))
  assert len(batch_norm.batch_norm_layers(outer)) == 1
