"""Image models, by name (registered in trainer/model.py MODELS): `small_cnn`, the default, and
`mobilenet_v3_small`. Each takes IMAGE_FEATURE as uint8 0-255 pixels [size, size, channels],
scales them inside, and starts with the definition's augmentation: Keras random layers, active
only in training (Keras runs them as the identity in predict, evaluate and serving), so on an
accelerator they run on the device and leave the host cores to decoding.
"""

from typing import List, Optional

import tensorflow as tf

from datadefs.definition import Dataset
from datadefs.images.spec import IMAGE_FEATURE, Augmentation
from datadefs.tasks import Moments
from trainer.config import ModelConfig
from trainer.images.decoder import image_spec

# small_cnn: filters of each conv block (a 3x3 convolution, then 2x2 max pooling): each block
# halves the side, so 64 px ends at 4 x 4. About 16M multiply-adds per 64 px image.
SMALL_CNN_FILTERS = (16, 32, 64, 128)
# BatchNorm's moving averages forget this fast. Keras' default, 0.99, needs thousands of steps
# to settle: on a small dataset the eval-time statistics stay wrong (training accuracy 0.97
# with eval 0.10 was seen with MobileNetV3Small at the default).
BATCH_NORM_MOMENTUM = 0.9


def augmentation_layers(augmentation: Augmentation) -> List[tf.keras.layers.Layer]:
  """The random layers `augmentation` turns on, in a fixed order; none for a factor of 0."""
  layers = []
  flips = '_and_'.join(name for name, on in (('horizontal', augmentation.horizontal_flip),
                                             ('vertical', augmentation.vertical_flip)) if on)
  if flips:
    layers.append(tf.keras.layers.RandomFlip(flips))
  if augmentation.rotation:
    layers.append(tf.keras.layers.RandomRotation(augmentation.rotation, fill_mode='nearest'))
  if augmentation.zoom:
    layers.append(tf.keras.layers.RandomZoom(augmentation.zoom, fill_mode='nearest'))
  if augmentation.translation:
    layers.append(tf.keras.layers.RandomTranslation(
        augmentation.translation, augmentation.translation, fill_mode='nearest'))
  if augmentation.contrast:
    layers.append(tf.keras.layers.RandomContrast(augmentation.contrast))
  return layers


def _pixels(dataset: Dataset):
  """The model's input (uint8 pixels) and its float32 0-255 values after augmentation."""
  spec = image_spec(dataset)
  inputs = tf.keras.Input(shape=(spec.size, spec.size, spec.channels), dtype=tf.uint8,
                          name=IMAGE_FEATURE)
  pixels = tf.keras.layers.Lambda(lambda x: tf.cast(x, tf.float32), name='to_float')(inputs)
  for layer in augmentation_layers(spec.augmentation):
    pixels = layer(pixels)
  return inputs, pixels


def _compile(dataset: Dataset, config: ModelConfig, inputs, hidden,
             label_moments: Optional[Moments]) -> tf.keras.Model:
  head = dataset.task_kind.head(dataset.num_outputs, label_moments)
  model = tf.keras.Model({IMAGE_FEATURE: inputs}, head.output(hidden))
  model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=config.learning_rate),
                loss=head.loss, metrics=head.metrics())
  return model


def small_cnn(dataset: Dataset, config: ModelConfig = ModelConfig(),
              label_moments: Optional[Moments] = None) -> tf.keras.Model:
  """Conv blocks of SMALL_CNN_FILTERS (conv, BatchNorm, ReLU, max pooling), global average
  pooling, dropout and the task's head."""
  inputs, pixels = _pixels(dataset)
  hidden = tf.keras.layers.Rescaling(1 / 255, name='scale')(pixels)
  for filters in SMALL_CNN_FILTERS:
    hidden = tf.keras.layers.Conv2D(filters, 3, padding='same', use_bias=False)(hidden)
    hidden = tf.keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM)(hidden)
    hidden = tf.keras.layers.ReLU()(hidden)
    hidden = tf.keras.layers.MaxPooling2D()(hidden)
  hidden = tf.keras.layers.GlobalAveragePooling2D()(hidden)
  if config.dropout:
    hidden = tf.keras.layers.Dropout(config.dropout)(hidden)
  return _compile(dataset, config, inputs, hidden, label_moments)


def mobilenet_v3_small(dataset: Dataset, config: ModelConfig = ModelConfig(),
                       label_moments: Optional[Moments] = None) -> tf.keras.Model:
  """MobileNetV3Small from random weights (nothing is downloaded), or from the definition's
  local `weights_file`; its BatchNorm momentum lowered to BATCH_NORM_MOMENTUM."""
  spec = image_spec(dataset)
  inputs, pixels = _pixels(dataset)
  # include_preprocessing: the network scales 0-255 pixels itself.
  backbone = tf.keras.applications.MobileNetV3Small(
      input_shape=(spec.size, spec.size, spec.channels), weights=None, include_top=False,
      include_preprocessing=True, pooling='avg')
  for layer in backbone.layers:
    if isinstance(layer, tf.keras.layers.BatchNormalization):
      layer.momentum = BATCH_NORM_MOMENTUM
  if spec.weights_file:
    load_weights(backbone, spec.weights_file)
  hidden = backbone(pixels)
  if config.dropout:
    hidden = tf.keras.layers.Dropout(config.dropout)(hidden)
  return _compile(dataset, config, inputs, hidden, label_moments)


def load_weights(backbone: tf.keras.Model, path: str) -> None:
  """Loads a local weights file (Keras .h5, or a TF checkpoint prefix) into the backbone."""
  if not (tf.io.gfile.exists(path) or tf.io.gfile.exists(path + '.index')):
    raise FileNotFoundError(f'weights_file {path!r} (the definition\'s [image] weights_file) '
                            f'does not exist: name a local weights file, or leave it empty to '
                            f'start from random weights')
  try:
    backbone.load_weights(path)
  except (ValueError, tf.errors.OpError) as error:
    raise ValueError(f'weights_file {path!r} does not fit MobileNetV3Small(include_top=False) '
                     f'at this input size: {error}') from error
