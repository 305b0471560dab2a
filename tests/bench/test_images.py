"""The image benchmark on a tiny subset: every variant reads the same images and labels in the
model's shapes, the layouts hold the same pixels, the alternated protocol records every run, and
host-side augmentation changes pixels but not shapes. No timing is judged."""

import collections
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from bench import image_augment
from bench import image_decode_cost
from bench import image_data
from bench import image_measure
from bench import image_report
from bench import image_variants as variants_lib
from bench import images as images_cli
from bench import measure
from datadefs.images.spec import IMAGE_FEATURE

SIZE = 32
IMAGES = 40
BATCH = 8  # 5 whole batches per pass


@pytest.fixture(scope='module')
def tiny(tmp_path_factory) -> image_data.ImageBenchData:
  return image_data.ensure_data(str(tmp_path_factory.mktemp('images')), SIZE, limit=IMAGES)


def _one_pass(variant, data):
  """The first pass of batches, pulled as the benchmark pulls them, but in order: a parallel
  map may otherwise hand over a batch of the next pass first."""
  source = variant.make(data, BATCH, ordered=True)
  count = IMAGES // BATCH
  if isinstance(source, tf.data.Dataset):
    return list(source.take(count).as_numpy_iterator())
  if not variant.workers:
    return [source[index] for index in range(count)]
  pull = measure.SequencePuller(source, variant.workers)
  try:
    return [pull.next_batch() for _ in range(count)]
  finally:
    pull.close()


def test_subset_is_seeded_and_in_listing_order(tiny):
  assert tiny.images == IMAGES and tiny.is_subset
  listed = image_data.list_images(Path(tiny.paths[0]).parents[1])
  again = image_data.subset(*listed, IMAGES, 0)
  assert tuple(again[0]) == tiny.paths and tuple(again[1]) == tiny.labels
  positions = [listed[0].index(path) for path in tiny.paths]
  assert positions == sorted(positions)
  assert image_data.subset(*listed, 0, 0) == listed


@pytest.mark.parametrize('variant', variants_lib.VARIANTS, ids=lambda v: v.name)
def test_one_pass_reads_every_image_once_in_model_shapes(variant, tiny):
  batches = _one_pass(variant, tiny)
  labels = collections.Counter()
  means = []
  for features, label in batches:
    pixels = np.asarray(features[IMAGE_FEATURE])
    assert pixels.shape == (BATCH, SIZE, SIZE, image_data.CHANNELS)
    labels.update(np.asarray(label).tolist())
    means += pixels.reshape(BATCH, -1).mean(axis=1).tolist()
  assert labels == collections.Counter(tiny.labels)
  # The same pixels, whichever decoder (TF's or PIL) and layout (encoded, float32, arrays).
  expected = sorted(tiny.preload()[0].reshape(IMAGES, -1).mean(axis=1).tolist())
  np.testing.assert_allclose(sorted(means), expected, atol=1.0)


def test_float_layout_is_larger_than_encoded(tiny):
  sizes = tiny.bytes_per_example()
  assert 0 < sizes['encoded_tfrecord_gzip'] < sizes['float32_tfrecord_gzip']
  assert sizes['decoded_float32_in_memory'] == 4 * sizes['decoded_uint8_in_memory']


def test_alternated_runs_are_recorded_and_reported(tiny):
  protocol = image_measure.Protocol(batch_size=BATCH, rounds=2, memory_passes=1)
  variants = variants_lib.by_name(['tfdata_cache', 'keras_sequence_pil_alone',
                                   'from_tensor_slices'])
  summary = image_measure.alternate(variants, tiny, protocol)
  assert list(summary) == [v.name for v in variants]
  for variant in variants:
    entry = summary[variant.name]
    assert len(entry['runs']) == 2 and min(entry['runs']) > 0
    assert entry['images_per_s'] == pytest.approx(float(np.median(entry['runs'])))
    assert ('first_pass_images_per_s' in entry) == variant.caches
  size = {'size': SIZE, 'images': IMAGES, 'subset': True, 'variants': summary,
          'bytes_per_example': tiny.bytes_per_example()}
  checks = image_report.checks([size])
  ratio = summary['tfdata_cache']['images_per_s'] / summary['keras_sequence_pil_alone'][
      'images_per_s']
  assert checks[0]['ratio'] == pytest.approx(ratio)
  assert checks[0]['met'] == (ratio >= image_report.WARM_OVER_SEQUENCE)
  table = image_report.markdown({
      'command': 'test', 'protocol': {'batch_size': BATCH, 'rounds': 2},
      'machine': {'usable_cores': 2, 'cpu_model': 'x', 'load_average_1m_at_start': 0},
      'sizes': [size], 'checks': checks, 'augmentation': None, 'wall_seconds': 1})
  for name in summary:
    assert f'| {name} |' in table


def test_no_check_without_a_sequence():
  checks = image_report.checks([{'size': 64, 'variants': {'tfdata_cache': {
      'images_per_s': 1.0}}}])
  assert checks[0]['met'] is None and checks[0]['ratio'] is None


def test_cli_refuses_limits_that_do_not_match_sizes():
  with pytest.raises(SystemExit):
    images_cli.parse_args(['--sizes', '64,224', '--limits', '0'])
  with pytest.raises(SystemExit):
    images_cli.parse_args(['--variants', 'no_such_variant'])
  with pytest.raises(SystemExit):
    images_cli.parse_args(['--sizes', '0', '--limits', '0'])


def test_host_augmentation_changes_pixels_not_shapes(tiny):
  images, labels = tiny.preload()
  dataset = tf.data.Dataset.from_tensor_slices(({IMAGE_FEATURE: images}, labels)).batch(BATCH)
  augmentation = image_augment.datadefs.load(image_augment.DATASET).image.augmentation
  plain, label = next(iter(dataset))
  augmented, augmented_label = next(iter(image_augment.host_augmented(dataset, augmentation)))
  assert augmented[IMAGE_FEATURE].dtype == tf.uint8
  assert augmented[IMAGE_FEATURE].shape == plain[IMAGE_FEATURE].shape
  np.testing.assert_array_equal(augmented_label, label)
  assert not np.array_equal(augmented[IMAGE_FEATURE], plain[IMAGE_FEATURE])


def test_decode_cost_times_every_decoder(tiny):
  costs = image_decode_cost.measure(tiny, rounds=1, images=8)
  assert set(costs) == {'tf_decode_only', 'tf_decode_and_resize', 'pil'}
  assert all(len(entry['runs']) == 1 and entry['images_per_s'] > 0 for entry in costs.values())


def test_relative_data_dir_finds_its_images(tiny, monkeypatch):
  root = Path(tiny.paths[0]).parents[3]
  monkeypatch.chdir(root.parent)
  again = image_data.ensure_data(root.name, SIZE, limit=IMAGES)
  assert again.paths == tiny.paths
