"""serving/ for an image model: {"b64": ...} instances (or {"image_bytes": {"b64": ...}}) go to
its serving_bytes signature; a broken image or a bad instance is named, and the model still
answers."""

import base64

import numpy as np
import pytest
import tensorflow as tf

from datadefs.images import digits
from datadefs.images.spec import IMAGE_FEATURE, SERVING_BYTES_INPUT
from serving import instances
from serving import model as model_lib
from tests.trainer.images import saved
from tests.trainer.images import transformed
from trainer.images.decode import decode_batch

_SIZE = 32
_DATASET = transformed.image_dataset(size=_SIZE)


@pytest.fixture(scope='module')
def served(tmp_path_factory):
  root = tmp_path_factory.mktemp('image-serving')
  digits.write_digits(root / 'images', size=48, seed=1)
  files = transformed.image_files(root / 'images')[::60]
  model, path = saved.save_model(_DATASET, files, root)
  return files, model, model_lib.load(path)


def _b64(data: bytes) -> str:
  return base64.b64encode(data).decode()


def test_b64_jpeg_instances_are_classified_as_the_model_does(served):
  files, model, loaded = served
  jpegs = [path for path, _ in files if path.suffix == '.jpg']
  assert jpegs
  encoded = [path.read_bytes() for path in jpegs]
  requests = [{'b64': _b64(data)} if i % 2 else {SERVING_BYTES_INPUT: {'b64': _b64(data)}}
              for i, data in enumerate(encoded)]
  predictions = loaded.predict(requests)
  expected = model({IMAGE_FEATURE: decode_batch(tf.constant(encoded), _SIZE, 3)},
                   training=False).numpy()
  np.testing.assert_allclose([p['probabilities'] for p in predictions], expected, atol=1e-6)
  assert [p['classes'] for p in predictions] == [
      _DATASET.label.classes[i] for i in expected.argmax(axis=1)]


def test_a_broken_image_is_named_and_the_model_still_answers(served):
  files, _, loaded = served
  good = {'b64': _b64(files[0][0].read_bytes())}
  broken = {'b64': _b64(files[0][0].read_bytes()[:30])}
  with pytest.raises(instances.InstanceError, match=r'^instance 1: not a decodable image'):
    loaded.predict([good, broken, good])
  assert len(loaded.predict([good])) == 1


@pytest.mark.parametrize('instance, message', [
    ({'b64': 'not base64!'}, '"b64" is not base64'),
    ({'pixels': [1, 2, 3]}, 'an image instance is'),
    ('a text', 'an image instance is'),
])
def test_an_instance_that_is_no_encoded_image_is_named(served, instance, message):
  _, _, loaded = served
  with pytest.raises(instances.InstanceError, match=f'^instance 0: {message}'):
    loaded.predict([instance])
