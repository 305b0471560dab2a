"""trainer/signatures.py for an image dataset: serving_default (serialized raw tf.Examples,
through the Transform layer) and serving_bytes (raw encoded images) agree with the model run on
the training input's tensors, are repeatable with augmentation on, and refuse corrupt bytes
with a clear error."""


import apache_beam as beam
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils

from core.names import BYTES_SIGNATURE, SERVING_SIGNATURE
from datadefs.images.spec import (IMAGE_FEATURE, LABEL_FEATURE, RAW_IMAGE, RAW_LABEL,
                                  SERVING_BYTES_INPUT, Augmentation)
from tests.trainer.images import transformed
from trainer import input_pipeline
from trainer import kinds
from trainer import model as model_lib
from trainer import signatures
from trainer.images.serving import CLASSES, PROBABILITIES

_SIZE = 32
_COUNT = 24
_RAW_SPEC = {RAW_IMAGE: tf.io.FixedLenFeature([], tf.string),
             RAW_LABEL: tf.io.FixedLenFeature([], tf.string)}
_DATASET = transformed.image_dataset(size=_SIZE, augmentation=Augmentation(
    rotation=0.1, zoom=0.1, translation=0.1, contrast=0.2))


def _preprocessing_fn(inputs):
  """What Transform does for the image kind: bytes through, the class name to its index."""
  return {IMAGE_FEATURE: tf.identity(inputs[RAW_IMAGE]),
          LABEL_FEATURE: _DATASET.task_kind.label(inputs[RAW_LABEL], _DATASET.label.classes)}


def _raw_example(encoded: bytes, label: str) -> bytes:
  return tf.train.Example(features=tf.train.Features(feature={
      RAW_IMAGE: tf.train.Feature(bytes_list=tf.train.BytesList(value=[encoded])),
      RAW_LABEL: tf.train.Feature(bytes_list=tf.train.BytesList(value=[label.encode()])),
  })).SerializeToString()


@pytest.fixture(scope='module')
def served(digit_files, tmp_path_factory):
  """The eval files, their transformed shards, the model and its saved signatures, loaded."""
  root = tmp_path_factory.mktemp('serving')
  files = digit_files[::len(digit_files) // _COUNT][:_COUNT]
  metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(_RAW_SPEC))
  rows = [{RAW_IMAGE: path.read_bytes(), RAW_LABEL: _DATASET.label.classes[label].encode()}
          for path, label in files[:4]]
  with beam.Pipeline() as pipeline, tft_beam.Context(temp_dir=str(root / 'tmp')):
    transform_fn = ((pipeline | beam.Create(rows), metadata)
                    | tft_beam.AnalyzeDataset(_preprocessing_fn))
    _ = transform_fn | tft_beam.WriteTransformFn(str(root / 'transform'))
  # Transform (the TFX component) writes the raw metadata next to the transform_fn.
  metadata_io.write_metadata(
      metadata, str(root / 'transform' / tft.TFTransformOutput.RAW_METADATA_DIR))
  tf_transform_output = tft.TFTransformOutput(str(root / 'transform'))
  shards = transformed.write_shards(files, root / 'shards', num_shards=1)
  model = model_lib.build(_DATASET)
  path = str(root / 'model')
  model.save(path, save_format='tf',
             signatures=signatures.serving_signatures(model, tf_transform_output, _DATASET))
  return files, shards, model, tf.saved_model.load(path)


def _input_pipeline_probabilities(model, shards):
  decode = kinds.decoder(_DATASET, transformed.FEATURE_SPEC)
  config = input_pipeline.InputConfig(tuple(shards), 8, False, LABEL_FEATURE)
  return np.concatenate([model(features, training=False).numpy() for features, _ in
                         input_pipeline.make_dataset(config, decode)])


def test_both_signatures_agree_with_the_model_on_the_training_input(served):
  files, shards, model, loaded = served
  expected = _input_pipeline_probabilities(model, shards)
  from_bytes = loaded.signatures[BYTES_SIGNATURE](
      **{SERVING_BYTES_INPUT: tf.constant([path.read_bytes() for path, _ in files])})
  from_examples = loaded.signatures[SERVING_SIGNATURE](examples=tf.constant(
      [_raw_example(path.read_bytes(), 'ignored') for path, _ in files]))
  np.testing.assert_allclose(from_bytes[PROBABILITIES].numpy(), expected, atol=1e-6)
  np.testing.assert_allclose(from_examples['outputs'].numpy(), expected, atol=1e-6)
  names = [name.decode() for name in from_bytes[CLASSES].numpy()]
  assert names == [_DATASET.label.classes[i] for i in expected.argmax(axis=1)]


def test_repeated_serving_calls_are_identical_with_augmentation_on(served):
  files, _, _, loaded = served
  images = tf.constant([path.read_bytes() for path, _ in files])
  first, second = (loaded.signatures[BYTES_SIGNATURE](**{SERVING_BYTES_INPUT: images})
                   for _ in range(2))
  np.testing.assert_array_equal(first[PROBABILITIES].numpy(), second[PROBABILITIES].numpy())
  examples = tf.constant([_raw_example(path.read_bytes(), 'ignored') for path, _ in files])
  first, second = (loaded.signatures[SERVING_SIGNATURE](examples=examples) for _ in range(2))
  np.testing.assert_array_equal(first['outputs'].numpy(), second['outputs'].numpy())


@pytest.mark.parametrize('corrupt', [b'', b'hello, not an image', b'\x89PNG\r\n\x1a\n'],
                         ids=['empty', 'text', 'png-header-only'])
def test_corrupt_bytes_are_refused_with_an_invalid_argument_error(served, corrupt):
  files, _, _, loaded = served
  images = tf.constant([files[0][0].read_bytes(), corrupt])
  with pytest.raises(tf.errors.InvalidArgumentError, match='Input is empty|Unknown image file format|Invalid PNG'):
    loaded.signatures[BYTES_SIGNATURE](**{SERVING_BYTES_INPUT: images})
  # The model still answers afterwards.
  assert loaded.signatures[BYTES_SIGNATURE](
      **{SERVING_BYTES_INPUT: images[:1]})[PROBABILITIES].shape == (1, 10)



