"""trainer/signatures.py for an image dataset: serving_default (serialized raw tf.Examples,
through the Transform layer) and serving_bytes (raw encoded images) agree with the model run on
the training input's tensors, are repeatable with augmentation on, and refuse corrupt bytes
with a clear error."""

import numpy as np
import pytest
import tensorflow as tf

from core.names import BYTES_SIGNATURE, SERVING_SIGNATURE
from datadefs.images.spec import LABEL_FEATURE, SERVING_BYTES_INPUT, Augmentation
from tests.trainer.images import saved
from tests.trainer.images import transformed
from trainer import input_pipeline
from trainer import kinds
from trainer.images.serving import CLASSES, PROBABILITIES

_SIZE = 32
_COUNT = 24
_DATASET = transformed.image_dataset(size=_SIZE, augmentation=Augmentation(
    rotation=0.1, zoom=0.1, translation=0.1, contrast=0.2))


@pytest.fixture(scope='module')
def served(digit_files, tmp_path_factory):
  """The eval files, their transformed shards, the model and its saved signatures, loaded."""
  root = tmp_path_factory.mktemp('serving')
  files = digit_files[::len(digit_files) // _COUNT][:_COUNT]
  shards = transformed.write_shards(files, root / 'shards', num_shards=1)
  model, path = saved.save_model(_DATASET, files, root)
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
      [saved.raw_example(path.read_bytes(), 'ignored') for path, _ in files]))
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
  examples = tf.constant([saved.raw_example(path.read_bytes(), 'ignored') for path, _ in files])
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



