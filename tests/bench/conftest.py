"""Tiny benchmark data shared by the bench tests: made once per session (TFT on Beam over the
embedded sample, then 2,048 examples in 16 shards of 128, i.e. whole batches of 64)."""

import pytest

from bench import data as data_lib

TINY_EXAMPLES = 2048
TINY_SHARDS = 16
TINY_BATCH = 64


@pytest.fixture(scope='session')
def tiny_data_dir(tmp_path_factory):
  return tmp_path_factory.mktemp('bench_data')


@pytest.fixture(scope='session')
def tiny_data(tiny_data_dir) -> data_lib.BenchData:
  config = data_lib.DataConfig(examples=TINY_EXAMPLES, num_shards=TINY_SHARDS)
  return data_lib.ensure_data(config, str(tiny_data_dir))
