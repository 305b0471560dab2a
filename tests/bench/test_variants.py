"""Every benchmarked input pipeline reads the same examples and labels from the same data, in
the batch shapes the model takes; the synthetic ceiling repeats one real batch."""

import collections
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from bench import measure
from bench import python_readers
from bench import variants as variants_lib
from tests.bench.conftest import TINY_BATCH
from tests import taxi

_READERS = [v for v in variants_lib.VARIANTS if v.name != 'synthetic_ceiling']


def _rows(features_dict, label):
  """(feature values in sorted name order..., label) per example of one batch."""
  names = sorted(features_dict)
  columns = [np.asarray(features_dict[name]) for name in names] + [np.asarray(label)]
  assert all(column.shape == (TINY_BATCH,) for column in columns), [c.shape for c in columns]
  return list(zip(*(column.tolist() for column in columns)))


def _batches(variant, source, count):
  """The first `count` batches of a source, pulled as the benchmark pulls them."""
  if isinstance(source, tf.data.Dataset):
    return list(source.take(count).as_numpy_iterator())
  puller = measure.SequencePuller(source, variant.workers)
  try:
    return [puller.next_batch() for _ in range(count)]
  finally:
    puller.close()


@pytest.fixture(scope='module')
def truth(tiny_data):
  """Every example of the data, parsed by tf.io.parse_example, as a multiset of rows."""
  spec = tiny_data.feature_spec()
  records = tf.data.TFRecordDataset(list(tiny_data.files), compression_type='GZIP')
  rows = collections.Counter()
  for batch in records.batch(TINY_BATCH):
    parsed = tf.io.parse_example(batch, spec)
    label = parsed.pop(taxi.LABEL_KEY)
    rows.update(_rows(parsed, label))
  return rows


@pytest.mark.parametrize('variant', _READERS, ids=lambda v: v.name)
def test_one_pass_yields_exactly_the_data(variant, tiny_data, truth):
  source = variant.make(tiny_data, TINY_BATCH)
  # The data is whole batches (16 shards of 2 batches), so one pass is exactly this many.
  batches = _batches(variant, source, tiny_data.examples // TINY_BATCH)
  rows = collections.Counter()
  for features_dict, label in batches:
    assert sorted(features_dict) == sorted(set(tiny_data.feature_spec()) -
                                           {taxi.LABEL_KEY})
    rows.update(_rows(features_dict, label))
  assert rows == truth


def test_synthetic_ceiling_repeats_the_first_real_batch(tiny_data, truth):
  variant = variants_lib.by_name(['synthetic_ceiling'])[0]
  batches = _batches(variant, variant.make(tiny_data, TINY_BATCH), 3)
  first = _rows(*batches[0])
  assert all(_rows(*batch) == first for batch in batches[1:])
  parser = python_readers.ExampleParser(tiny_data.feature_spec(), taxi.LABEL_KEY)
  records = list(python_readers.read_records(tiny_data.files[0]))[:TINY_BATCH]
  assert first == _rows(*parser.parse_batch(records))
  assert all(row in truth for row in first)


def test_tuned_ablations_set_only_their_option(tiny_data):
  base = variants_lib.tuned_input_config(tiny_data, TINY_BATCH, {})
  for variant in _READERS:
    if variant.input_overrides is None:
      continue
    config = variants_lib.tuned_input_config(tiny_data, TINY_BATCH, variant.input_overrides)
    changed = {field.name for field in dataclasses.fields(base)
               if getattr(config, field.name) != getattr(base, field.name)}
    assert changed == set(variant.input_overrides), variant.name


def test_tfx_default_uses_the_trainer_data_accessor_over_the_split(tiny_data):
  _, train_files = variants_lib.tfx_data_accessor(tiny_data)
  assert [sorted(tf.io.gfile.glob(pattern)) for pattern in train_files] == [list(tiny_data.files)]
  # TFXIO's own shapes: whether the benchmark had to squeeze [B, 1] to [B] for the model.
  raw = variants_lib.tfx_dataset(tiny_data, TINY_BATCH)
  shapes = {tuple(spec.shape) for spec in tf.nest.flatten(raw.element_spec)}
  assert shapes <= {(TINY_BATCH,), (TINY_BATCH, 1)}


def test_sequence_reads_each_batch_in_any_order(tiny_data, truth):
  sequence = variants_lib.by_name(['keras_sequence_w1'])[0].make(tiny_data, TINY_BATCH)
  forward = [_rows(*sequence[i]) for i in range(len(sequence))]
  backward = [_rows(*sequence[i]) for i in reversed(range(len(sequence)))]
  assert forward == backward[::-1]
  with pytest.raises(IndexError, match=str(len(sequence))):
    sequence[len(sequence)]  # pylint: disable=pointless-statement


def test_by_name_expands_keras_sequence_and_rejects_unknown_names():
  names = [v.name for v in variants_lib.by_name(['tuned', 'keras_sequence'])]
  assert names == ['tuned', 'keras_sequence_w1', 'keras_sequence_w2']
  with pytest.raises(ValueError, match='nope'):
    variants_lib.by_name(['nope'])
