"""trainer/images/decoder.py through make_dataset: decoded uint8 images with their labels, the
decode before the cache, and the cache sized from N x H x W x C."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from datadefs.images.spec import IMAGE_FEATURE, LABEL_FEATURE
from tests.trainer.images import transformed
from trainer import input_pipeline
from trainer import kinds
from trainer.images.decode import decode_and_resize

_SIZE = 24
_COUNT = 60


@pytest.fixture(scope='module')
def shards(digit_files, tmp_path_factory):
  files = digit_files[::len(digit_files) // _COUNT][:_COUNT]
  directory = tmp_path_factory.mktemp('shards')
  return files, transformed.write_shards(files, directory, num_shards=1)


def _decoder(size=_SIZE):
  return kinds.decoder(transformed.image_dataset(size=size), transformed.FEATURE_SPEC)


def _config(paths, **overrides):
  values = dict(file_patterns=tuple(paths), batch_size=8, is_training=False,
                label_key=LABEL_FEATURE)
  values.update(overrides)
  return input_pipeline.InputConfig(**values)


def test_the_image_kind_registers_a_decoder_that_knows_its_decoded_size():
  assert _decoder().decoded_example_bytes >= _SIZE * _SIZE * 3


def test_evaluation_batches_are_the_files_decoded_in_order(shards):
  files, paths = shards
  batches = list(input_pipeline.make_dataset(_config(paths), _decoder()))
  images = np.concatenate([features[IMAGE_FEATURE].numpy() for features, _ in batches])
  labels = np.concatenate([label.numpy() for _, label in batches])
  assert images.dtype == np.uint8 and images.shape == (_COUNT, _SIZE, _SIZE, 3)
  np.testing.assert_array_equal(labels, [label for _, label in files])
  for (path, _), pixels in zip(files, images):
    expected = decode_and_resize(tf.constant(path.read_bytes()), _SIZE, 3).numpy()
    np.testing.assert_array_equal(pixels, expected)


@pytest.mark.parametrize('overrides', [dict(in_memory=True), dict(in_memory=False, cache=True),
                                       dict(in_memory=False, cache=False)],
                         ids=['in-memory', 'decoded-cache', 'no-cache'])
def test_training_batches_carry_each_image_with_its_own_label(shards, overrides):
  files, paths = shards
  by_pixels = {decode_and_resize(tf.constant(path.read_bytes()), _SIZE, 3).numpy().tobytes():
               label for path, label in files}
  dataset = input_pipeline.make_dataset(_config(paths, is_training=True, seed=1, **overrides),
                                        _decoder())
  seen = 0
  for features, labels in dataset.take(2 * _COUNT // 8):
    assert features[IMAGE_FEATURE].shape == (8, _SIZE, _SIZE, 3)
    for pixels, label in zip(features[IMAGE_FEATURE].numpy(), labels.numpy()):
      assert by_pixels[pixels.tobytes()] == label
      seen += 1
  assert seen == 2 * _COUNT // 8 * 8


def test_the_cache_is_sized_from_the_decoded_images_not_the_files(shards):
  _, paths = shards
  for size in (16, 128):
    decoder = _decoder(size)
    decoded = _COUNT * decoder.decoded_example_bytes
    fits = _config(paths, cache_budget_bytes=decoded)
    assert input_pipeline.should_cache(paths, fits, decoder)
    assert not input_pipeline.should_cache(
        paths, dataclasses.replace(fits, cache_budget_bytes=decoded - 1), decoder)


def test_an_evaluation_cut_short_counts_only_what_it_reads(shards):
  _, paths = shards
  decoder = _decoder()
  config = _config(paths, max_examples=10, cache_budget_bytes=10 * decoder.decoded_example_bytes)
  assert input_pipeline.should_cache(paths, config, decoder)


def test_a_transform_output_without_the_image_is_named():
  with pytest.raises(ValueError, match=IMAGE_FEATURE):
    kinds.decoder(transformed.image_dataset(), {LABEL_FEATURE: transformed.FEATURE_SPEC[
        LABEL_FEATURE]})


def test_an_image_dataset_without_its_image_table_is_named():
  dataset = dataclasses.replace(transformed.image_dataset(), image=None)
  with pytest.raises(ValueError, match=r'no \[image\] table'):
    kinds.decoder(dataset, transformed.FEATURE_SPEC)
