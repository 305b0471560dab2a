"""trainer/in_memory_input.py, and make_dataset's choice of it for training data that fits."""

import collections
import os
import shutil

import pytest
import tensorflow as tf

from tests import taxi
from tests.trainer import synthetic
from trainer import in_memory_input
from trainer import input_pipeline

_ROWS = 100


def _config(pattern, **overrides):
  values = dict(file_patterns=(pattern,), batch_size=10, is_training=True,
                label_key=taxi.LABEL_KEY)
  values.update(overrides)
  return input_pipeline.InputConfig(**values)


def _row_ids(dataset, batches):
  return [int(row) for batch, _ in dataset.take(batches)
          for row in batch[synthetic.ROW_ID].numpy()]


@pytest.fixture
def shards(tmp_path):
  synthetic.write_shards(str(tmp_path / 'data'), 4, _ROWS // 4)
  return str(tmp_path / 'data' / '*.gz')


def test_each_epoch_is_a_new_permutation_of_every_example(shards):
  dataset = input_pipeline.make_dataset(_config(shards), synthetic.feature_spec(with_row_id=True))
  rows = _row_ids(dataset, 30)  # 3 epochs of 10 batches
  epochs = [rows[i:i + _ROWS] for i in range(0, 3 * _ROWS, _ROWS)]
  assert all(sorted(epoch) == list(range(_ROWS)) for epoch in epochs)
  assert epochs[0] != epochs[1] != epochs[2]
  assert epochs[0] != sorted(epochs[0])


def test_a_remainder_is_left_out_of_each_epoch_not_always_the_same(shards):
  # 100 examples in batches of 30: 3 batches per epoch, a different 10 left out each time.
  dataset = input_pipeline.make_dataset(_config(shards, batch_size=30),
                                        synthetic.feature_spec(with_row_id=True))
  rows = _row_ids(dataset, 3 * 20)
  epochs = [rows[i:i + 90] for i in range(0, len(rows), 90)]
  assert all(len(set(epoch)) == 90 for epoch in epochs)
  counts = collections.Counter(rows)
  assert set(counts) == set(range(_ROWS))  # every example is seen over 20 epochs


def test_batches_carry_features_and_label_of_the_same_examples(shards):
  spec = synthetic.feature_spec(with_row_id=True)
  streamed = input_pipeline.make_dataset(_config(shards, is_training=False, batch_size=_ROWS),
                                         spec)
  [(features, label)] = list(streamed)
  label_of = dict(zip(features[synthetic.ROW_ID].numpy(), label.numpy()))
  fare_of = dict(zip(features[synthetic.ROW_ID].numpy(), features['fare_xf'].numpy()))
  for batch, labels in input_pipeline.make_dataset(_config(shards), spec).take(12):
    rows = batch[synthetic.ROW_ID].numpy()
    assert list(labels.numpy()) == [label_of[row] for row in rows]
    assert list(batch['fare_xf'].numpy()) == [fare_of[row] for row in rows]
    assert taxi.LABEL_KEY not in batch


@pytest.mark.parametrize('overrides, in_memory', [
    (dict(), True),  # fits the cache budget: held in memory
    (dict(in_memory=False), False),
    (dict(cache_budget_bytes=0), False),  # does not fit: streamed
    (dict(cache_budget_bytes=0, in_memory=True), True),
    (dict(parse_after_batch=False), False),
    (dict(batch_size=101), False),  # no whole batch: streamed (batches span passes)
])
def test_make_dataset_holds_training_data_in_memory_when_it_fits(shards, overrides, in_memory):
  dataset = input_pipeline.make_dataset(_config(shards, **overrides), synthetic.feature_spec())
  # Data held in memory no longer needs its files.
  shutil.rmtree(os.path.dirname(shards))
  if in_memory:
    assert len(list(dataset.take(3))) == 3
  else:
    with pytest.raises(tf.errors.NotFoundError):
      list(dataset.take(3))


def test_epochs_refuses_too_few_examples_for_a_batch():
  columns = {'x': tf.zeros([3]), taxi.LABEL_KEY: tf.zeros([3], tf.int64)}
  with pytest.raises(ValueError, match='3 training examples make no batch of 4'):
    in_memory_input.epochs(columns, 3, 4, taxi.LABEL_KEY)
