"""The benchmark data generator: shape of what it writes, values the model accepts, caching."""

import dataclasses
import os

import numpy as np
import pytest

from bench import data as data_lib
from bench import python_readers
from tests.bench.conftest import TINY_EXAMPLES, TINY_SHARDS
from trainer import model as model_lib
from tests import taxi


def _all_examples(bench_data):
  parser = python_readers.ExampleParser(bench_data.feature_spec(), taxi.LABEL_KEY)
  return [parser.parse(record)
          for path in bench_data.files for record in python_readers.read_records(path)]


def test_writes_the_configured_examples_in_gzip_shards(tiny_data):
  assert len(tiny_data.files) == TINY_SHARDS
  assert all(path.endswith('.gz') for path in tiny_data.files)
  counts = [sum(1 for _ in python_readers.read_records(path)) for path in tiny_data.files]
  assert counts == list(tiny_data.shard_examples)
  assert sum(counts) == tiny_data.examples == TINY_EXAMPLES


def test_feature_spec_is_the_model_inputs_and_the_label(tiny_data):
  model_inputs = set(model_lib.id_feature_sizes(taxi.TAXI)) | set(
      taxi.NUMERIC)
  assert set(tiny_data.feature_spec()) == model_inputs | {taxi.LABEL_KEY}
  assert all(spec.shape == [] for spec in tiny_data.feature_spec().values())


def test_values_are_ones_the_model_accepts(tiny_data):
  examples = _all_examples(tiny_data)
  for name, num_ids in model_lib.id_feature_sizes(taxi.TAXI).items():
    ids = np.array([example[name] for example in examples])
    assert ids.min() >= 0 and ids.max() < num_ids, name
  for name in taxi.NUMERIC:
    assert np.isfinite([example[name] for example in examples]).all(), name
  labels = {example[taxi.LABEL_KEY] for example in examples}
  assert labels == {0, 1}


def test_resampled_rows_are_jittered_so_duplicates_differ(tiny_data):
  examples = _all_examples(tiny_data)
  floats = taxi.NUMERIC
  distinct = {tuple(example[name] for name in floats) for example in examples}
  # 2,048 draws from ~15k rows repeat some rows; the jitter keeps their floats apart.
  assert len(distinct) == len(examples)


def test_second_call_reuses_the_cache(tiny_data, tiny_data_dir):
  mtimes = [os.path.getmtime(path) for path in tiny_data.files]
  again = data_lib.ensure_data(
      data_lib.DataConfig(examples=TINY_EXAMPLES, num_shards=TINY_SHARDS), str(tiny_data_dir))
  assert not again.generated_now
  assert again.root == tiny_data.root
  assert [os.path.getmtime(path) for path in again.files] == mtimes
  assert again.generation_seconds == tiny_data.generation_seconds > 0


def test_cache_key_follows_the_parameters():
  config = data_lib.DataConfig(examples=1000)
  assert data_lib.cache_key(config) == data_lib.cache_key(data_lib.DataConfig(examples=1000))
  for change in ({'examples': 1001}, {'seed': config.seed + 1}, {'num_shards': 4},
                 {'float_jitter': 0.02}):
    assert data_lib.cache_key(dataclasses.replace(config, **change)) != (
        data_lib.cache_key(config)), change


def test_scale_columns_resamples_with_a_fixed_seed_and_jitters_floats_only():
  base = {'ids': np.arange(5, dtype=np.int64), 'value': np.arange(5, dtype=np.float32) * 10}
  scaled = data_lib.scale_columns(base, 1000, seed=7, float_jitter=0.01)
  again = data_lib.scale_columns(base, 1000, seed=7, float_jitter=0.01)
  other = data_lib.scale_columns(base, 1000, seed=8, float_jitter=0.01)
  assert all(np.array_equal(scaled[name], again[name]) for name in base)
  assert not np.array_equal(scaled['ids'], other['ids'])
  assert set(scaled['ids']) == set(base['ids'])
  # Each float is its row's value plus a small noise, never exactly the original.
  noise = scaled['value'] - scaled['ids'] * 10
  assert np.abs(noise).max() < 0.1 and np.all(noise != 0)
  assert scaled['value'].dtype == np.float32


@pytest.mark.parametrize('field, value', [('examples', 0), ('num_shards', 0),
                                          ('float_jitter', -1.0)])
def test_config_rejects_bad_values_naming_them(field, value):
  with pytest.raises(ValueError, match=f'{field} must be .*{value}'):
    data_lib.DataConfig(**{field: value})
