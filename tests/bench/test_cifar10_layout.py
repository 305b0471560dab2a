"""bench/cifar10_layout.py and bench/images_e2e.py: the CIFAR-10 layout's Transform writes the
pixels our decode-and-resize makes, as float32, with the label as ours; bytes are counted per
component and output. (The whole comparison runs in `make bench-images-e2e`.)"""

import tempfile

import numpy as np
import tensorflow as tf
import tensorflow_data_validation as tfdv
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata

import datadefs
from bench import cifar10_layout
from bench import images_e2e
from datadefs.images import spec
from tests import image_folders
from trainer.images.decode import decode_and_resize

DIGITS = datadefs.load('digits')
SIZE = DIGITS.image.size


def _raw(seed, label, kind):
  return {spec.RAW_IMAGE: np.array([image_folders.encoded(seed, kind)], dtype=object),
          spec.RAW_FORMAT: np.array([kind.encode()], dtype=object),
          spec.RAW_HEIGHT: np.array([12]), spec.RAW_WIDTH: np.array([16]),
          spec.RAW_LABEL: np.array([label.encode()], dtype=object),
          spec.RAW_CONTENT_HASH: np.array([b'0' * 64], dtype=object)}


def test_transform_writes_our_decoded_pixels_as_floats_and_our_label():
  rows = [_raw(1, 'three', 'png'), _raw(2, 'zero', 'jpeg')]
  metadata = dataset_metadata.DatasetMetadata(tfdv.load_schema_text(DIGITS.schema_path))
  config = DIGITS.to_custom_config()
  with tempfile.TemporaryDirectory() as temp_dir, tft_beam.Context(temp_dir=temp_dir):
    (transformed, _), _ = ((rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
        lambda inputs: cifar10_layout.preprocessing_fn(inputs, config)))
  assert [int(np.asarray(row[DIGITS.label_key]).ravel()[0]) for row in transformed] == [3, 0]
  for raw, row in zip(rows, transformed):
    pixels = np.asarray(row[spec.IMAGE_FEATURE])
    ours = decode_and_resize(tf.constant(raw[spec.RAW_IMAGE][0]), SIZE, 3).numpy()
    assert pixels.dtype == np.float32 and pixels.size == SIZE * SIZE * 3
    np.testing.assert_array_equal(pixels.reshape(ours.shape), ours.astype(np.float32))


def test_bytes_are_counted_per_component(tmp_path):
  (tmp_path / 'Transform' / 'out').mkdir(parents=True)
  (tmp_path / 'Transform' / 'out' / 'a').write_bytes(b'x' * 10)
  (tmp_path / 'Transform' / 'out' / 'deeper').mkdir()
  (tmp_path / 'Transform' / 'out' / 'deeper' / 'b').write_bytes(b'x' * 5)
  (tmp_path / 'Trainer' / 'model').mkdir(parents=True)
  (tmp_path / 'Trainer' / 'model' / 'c').write_bytes(b'y' * 3)
  assert images_e2e.bytes_under(tmp_path) == {'Trainer/model': 3, 'Transform/out': 15,
                                              'total': 18}
