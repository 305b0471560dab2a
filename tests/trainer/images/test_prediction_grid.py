"""trainer/prediction_sample.py for an image classifier (trainer/images/prediction_grid.py): the
eval images the report's grid shows, misclassified first, as small PNGs with their classes."""

import base64
import json

import numpy as np
import tensorflow as tf

from datadefs.images.spec import IMAGE_FEATURE, LABEL_FEATURE
from tests.trainer.images import transformed
from trainer import input_pipeline
from trainer import kinds
from trainer import prediction_sample
from trainer.images import prediction_grid

_SIZE = 128  # above the thumbnail's side: the sample keeps smaller images than the model saw
_ALWAYS = 3  # the test model's one answer


def _always(class_id: int, classes: int, size: int) -> tf.keras.Model:
  """A classifier that answers `class_id` for every image."""
  image = tf.keras.Input((size, size, 3), dtype=tf.uint8, name=IMAGE_FEATURE)
  pixels = tf.keras.layers.Flatten()(tf.cast(image, tf.float32))
  biases = [5.0 if index == class_id else 0.0 for index in range(classes)]
  output = tf.keras.layers.Dense(classes, activation='softmax', kernel_initializer='zeros',
                                 bias_initializer=tf.keras.initializers.Constant(biases))(pixels)
  return tf.keras.Model({IMAGE_FEATURE: image}, output)


def test_an_image_classifiers_sample_shows_misclassified_images_first(digit_files, tmp_path):
  files = digit_files[::60]  # 30 images, 3 of each class: 27 misclassified, 3 not
  shards = transformed.write_shards(files, tmp_path / 'eval', num_shards=1)
  dataset = transformed.image_dataset(size=_SIZE)
  decode = kinds.decoder(dataset, transformed.FEATURE_SPEC)
  eval_input = input_pipeline.InputConfig(tuple(shards), 16, False, LABEL_FEATURE)
  path = prediction_sample.write(_always(_ALWAYS, 10, _SIZE), eval_input, decode,
                                 str(tmp_path))
  sample = json.loads(open(path).read())
  labels = [label for _, label in files]
  wrong = sum(label != _ALWAYS for label in labels)
  assert sample['kind'] == prediction_grid.KIND and sample['scanned'] == len(files)
  assert sample['misclassified'] == wrong
  assert sample['classes'] == list(dataset.label.classes)
  shown = sample['images']
  assert len(shown) == min(len(files), prediction_grid.SHOWN)
  # Every misclassified image first (in file order), then the correct ones.
  assert [image['label'] for image in shown[:wrong]] == [
      label for label in labels if label != _ALWAYS][:prediction_grid.SHOWN]
  assert all(image['predicted'] == _ALWAYS for image in shown)
  assert [image['label'] for image in shown[wrong:]] == [_ALWAYS] * labels.count(_ALWAYS)
  png = tf.io.decode_png(base64.b64decode(shown[0]['png']))
  assert png.shape == (prediction_grid.THUMBNAIL, prediction_grid.THUMBNAIL, 3)
  assert 0.0 < shown[0]['confidence'] <= 1.0


def test_choose_takes_the_misclassified_first_and_at_most_shown():
  labels, predicted = [0, 1, 2, 3, 4], [0, 2, 2, 1, 4]
  assert prediction_grid.choose(labels, predicted) == [1, 3, 0, 2, 4]
  assert prediction_grid.choose(labels, predicted, shown=3) == [1, 3, 0]


def test_a_small_image_keeps_its_size_in_the_sample():
  pixels = np.full((20, 30, 1), 200, np.uint8)
  png = tf.io.decode_png(base64.b64decode(prediction_grid.thumbnail_png(pixels)))
  np.testing.assert_array_equal(png.numpy(), pixels)
