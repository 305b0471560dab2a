"""trainer/images/models.py: the image models by name, their augmentation (training only), the
BatchNorm momentum and a local weights file."""

import numpy as np
import pytest
import tensorflow as tf

from datadefs.images.spec import IMAGE_FEATURE, Augmentation
from tests.trainer.images import transformed
from trainer import model as model_lib
from trainer.images import models

_SIZE = 32
_ALL_ON = Augmentation(rotation=0.1, zoom=0.1, translation=0.1, contrast=0.2,
                       horizontal_flip=True, vertical_flip=True)


def _pixels(count=4, seed=0):
  return np.random.default_rng(seed).integers(0, 256, (count, _SIZE, _SIZE, 3), dtype=np.uint8)


@pytest.mark.parametrize('name', ['small_cnn', 'mobilenet_v3_small'])
def test_each_image_model_takes_uint8_pixels_and_gives_class_probabilities(name):
  model = model_lib.build(transformed.image_dataset(size=_SIZE, model=name))
  assert model.inputs[0].dtype == tf.uint8
  probabilities = model({IMAGE_FEATURE: _pixels()}).numpy()
  assert probabilities.shape == (4, 10)
  np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_augmentation_is_active_in_training_only():
  model = model_lib.build(transformed.image_dataset(size=_SIZE, augmentation=_ALL_ON))
  inputs = {IMAGE_FEATURE: _pixels()}
  np.testing.assert_array_equal(model(inputs, training=False).numpy(),
                                model(inputs, training=False).numpy())
  augment = tf.keras.Sequential(models.augmentation_layers(_ALL_ON))
  pixels = tf.cast(_pixels(), tf.float32)
  np.testing.assert_array_equal(augment(pixels, training=False).numpy(), pixels.numpy())
  assert not np.array_equal(augment(pixels, training=True).numpy(), pixels.numpy())


def test_only_the_augmentations_turned_on_are_layers():
  assert models.augmentation_layers(Augmentation()) == []
  kinds = [type(layer).__name__ for layer in
           models.augmentation_layers(Augmentation(rotation=0.05, contrast=0.1))]
  assert kinds == ['RandomRotation', 'RandomContrast']
  flips = models.augmentation_layers(Augmentation(horizontal_flip=True))
  assert [layer.mode for layer in flips] == ['horizontal']


def test_mobilenet_batch_norm_forgets_fast():
  model = model_lib.build(transformed.image_dataset(size=_SIZE, model='mobilenet_v3_small'))
  momenta = {layer.momentum for layer in _layers(model)
             if isinstance(layer, tf.keras.layers.BatchNormalization)}
  assert momenta == {models.BATCH_NORM_MOMENTUM}


def _layers(model):
  for layer in model.layers:
    yield layer
    if isinstance(layer, tf.keras.Model):
      yield from _layers(layer)


def test_mobilenet_loads_weights_from_a_local_file(tmp_path):
  trained = model_lib.build(transformed.image_dataset(size=_SIZE, model='mobilenet_v3_small'))
  backbone = next(layer for layer in trained.layers if isinstance(layer, tf.keras.Model))
  path = str(tmp_path / 'backbone.h5')
  backbone.save_weights(path)
  loaded = model_lib.build(transformed.image_dataset(size=_SIZE, model='mobilenet_v3_small',
                                                     weights_file=path))
  loaded_backbone = next(layer for layer in loaded.layers if isinstance(layer, tf.keras.Model))
  for mine, theirs in zip(loaded_backbone.get_weights(), backbone.get_weights()):
    np.testing.assert_array_equal(mine, theirs)


def test_a_missing_weights_file_is_named(tmp_path):
  path = str(tmp_path / 'nowhere.h5')
  with pytest.raises(FileNotFoundError, match='nowhere.h5'):
    model_lib.build(transformed.image_dataset(size=_SIZE, model='mobilenet_v3_small',
                                              weights_file=path))
