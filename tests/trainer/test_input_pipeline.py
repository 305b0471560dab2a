"""trainer/input_pipeline.py on small synthetic shards."""

import gzip
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.trainer import synthetic
from trainer import input_pipeline
from tests import taxi

_ROWS_PER_FILE = 25
_NUM_FILES = 4


@pytest.fixture(scope='module')
def shards(tmp_path_factory):
  directory = str(tmp_path_factory.mktemp('shards'))
  synthetic.write_shards(directory, _NUM_FILES, _ROWS_PER_FILE)
  return os.path.join(directory, '*.gz')


def _config(pattern, **overrides):
  values = dict(file_patterns=(pattern,), batch_size=8, is_training=False,
                label_key=taxi.LABEL_KEY, shuffle_buffer_size=100)
  values.update(overrides)
  return input_pipeline.InputConfig(**values)


def _row_ids(dataset, batches=None):
  dataset = dataset if batches is None else dataset.take(batches)
  return [int(row) for batch, _ in dataset for row in batch[synthetic.ROW_ID].numpy()]


def test_training_batches_have_the_batch_size_and_repeat(shards):
  dataset = input_pipeline.make_dataset(
      _config(shards, is_training=True, batch_size=16), synthetic.feature_spec())
  # 100 rows in 16-row batches: more batches than one pass holds means the data repeats.
  batches = list(dataset.take(10))
  assert all(label.shape == (16,) for _, label in batches)
  assert set(batches[0][0]) == set(synthetic.feature_spec()) - {taxi.LABEL_KEY}
  assert all(batch['fare_xf'].shape == (16,) for batch, _ in batches)


def test_eval_is_deterministic_and_reads_every_example_once(shards):
  config = _config(shards, batch_size=7)
  spec = synthetic.feature_spec(with_row_id=True)
  first = _row_ids(input_pipeline.make_dataset(config, spec))
  second = _row_ids(input_pipeline.make_dataset(config, spec))
  assert first == second
  assert sorted(first) == list(range(_NUM_FILES * _ROWS_PER_FILE))
  # The last batch is partial rather than dropped: 100 = 14 * 7 + 2.
  last_labels = list(input_pipeline.make_dataset(config, spec))[-1][1]
  assert last_labels.shape == (2,)


@pytest.mark.parametrize('cache', [True, False])
def test_eval_max_examples_reads_the_same_first_examples_each_pass(shards, cache):
  spec = synthetic.feature_spec(with_row_id=True)
  everything = _row_ids(input_pipeline.make_dataset(_config(shards, batch_size=7), spec))
  bounded = input_pipeline.make_dataset(
      _config(shards, batch_size=7, max_examples=30, cache=cache), spec)
  first, second = _row_ids(bounded), _row_ids(bounded)
  assert first == second == everything[:30]


def test_training_order_differs_between_passes(shards):
  # Deterministic: the default lets the parse map hand out a batch of the second pass before
  # the last of the first (about 1 run in 20 here), which would blur the boundary checked.
  config = _config(shards, is_training=True, batch_size=10, deterministic=True)
  spec = synthetic.feature_spec(with_row_id=True)
  rows = _row_ids(input_pipeline.make_dataset(config, spec), batches=20)
  first_pass, second_pass = rows[:100], rows[100:]
  assert sorted(first_pass) == sorted(second_pass) == list(range(100))
  assert first_pass != second_pass
  assert first_pass != sorted(first_pass)


def test_parsing_before_or_after_batching_gives_the_same_batches(shards):
  spec = synthetic.feature_spec(with_row_id=True)
  after = list(input_pipeline.make_dataset(_config(shards), spec))
  before = list(input_pipeline.make_dataset(_config(shards, parse_after_batch=False), spec))
  assert len(after) == len(before)
  for (features_a, label_a), (features_b, label_b) in zip(after, before):
    np.testing.assert_array_equal(label_a, label_b)
    for name in features_a:
      np.testing.assert_array_equal(features_a[name], features_b[name])


def test_uncompressed_and_mixed_shards_are_read_by_their_names(tmp_path):
  """'*.gz' files are read as GZIP, others uncompressed, in one dataset: every row once."""
  synthetic.write_shards(str(tmp_path), 2, 10, compression='none')
  synthetic.write_shards(str(tmp_path / 'gz'), 2, 10, first_row=20)
  spec = synthetic.feature_spec(with_row_id=True)
  uncompressed = _config(str(tmp_path / '*.tfrecord'))
  assert sorted(_row_ids(input_pipeline.make_dataset(uncompressed, spec))) == list(range(20))
  mixed = _config(str(tmp_path / '*.tfrecord'), file_patterns=(
      str(tmp_path / '*.tfrecord'), str(tmp_path / 'gz' / '*.gz')))
  assert sorted(_row_ids(input_pipeline.make_dataset(mixed, spec))) == list(range(40))


def test_gzip_content_in_a_file_not_named_gz_is_named(tmp_path):
  [path] = synthetic.write_shards(str(tmp_path), 1, 5)
  misnamed = tmp_path / 'transformed_examples-00000-of-00001.tfrecord'
  os.rename(path, misnamed)
  with pytest.raises(input_pipeline.CorruptShardError,
                     match=f'{misnamed}: not a readable uncompressed TFRecord file'):
    input_pipeline.make_dataset(_config(str(misnamed)), synthetic.feature_spec())


def test_pattern_matching_no_files_is_named(tmp_path):
  pattern = str(tmp_path / 'missing' / '*.gz')
  with pytest.raises(FileNotFoundError, match='missing/\\*.gz'):
    input_pipeline.make_dataset(_config(pattern), synthetic.feature_spec())


@pytest.mark.parametrize('content', [b'this is not gzip at all', gzip.compress(b'\x01' * 40)],
                         ids=['not_gzip', 'gzip_but_not_tfrecord'])
def test_corrupt_shard_is_named(tmp_path, content):
  synthetic.write_shards(str(tmp_path), 2, 5)
  bad = tmp_path / 'transformed_examples-00002-of-00003.gz'
  bad.write_bytes(content)
  with pytest.raises(input_pipeline.CorruptShardError, match=str(bad)):
    input_pipeline.make_dataset(_config(str(tmp_path / '*.gz')), synthetic.feature_spec())


def test_corruption_after_the_first_record_is_found_by_a_whole_file_check(tmp_path):
  path = synthetic.write_shards(str(tmp_path), 1, 200, compression='none')[0]
  data = open(path, 'rb').read()
  middle = len(data) // 2
  with open(path, 'wb') as f:
    f.write(data[:middle] + b'\xff' * 16 + data[middle + 16:])  # The first records still read.
  input_pipeline.check_shards([path])
  with pytest.raises(input_pipeline.CorruptShardError, match=path):
    input_pipeline.check_shards([path], whole_files=True)


def test_gzip_file_cut_on_a_record_boundary_is_found_by_a_whole_file_check(tmp_path):
  [plain] = synthetic.write_shards(str(tmp_path), 1, 50, compression='none')
  path = str(tmp_path / 'cut.gz')
  whole = gzip.compress(open(plain, 'rb').read())
  with open(path, 'wb') as f:
    f.write(whole[:-8])  # Without the trailer: TF reads all 50 records and a clean end.
  assert sum(1 for _ in tf.data.TFRecordDataset(path, 'GZIP')) == 50
  with pytest.raises(input_pipeline.CorruptShardError, match='cut short'):
    input_pipeline.check_shards([path], whole_files=True)
  # Whole files pass, also two GZIP members one after the other.
  with open(path, 'wb') as f:
    f.write(whole + gzip.compress(open(plain, 'rb').read()))
  input_pipeline.check_shards([path], whole_files=True)


def test_cache_decision_follows_the_budget(shards, tmp_path):
  files = input_pipeline.list_files([shards])
  compressed = sum(os.path.getsize(path) for path in files)
  ratio = 5.0
  fits = _config(shards, cache_budget_bytes=int(compressed * ratio) + 1,
                 decompressed_size_ratio=ratio)
  too_big = _config(shards, cache_budget_bytes=int(compressed * ratio) - 1,
                    decompressed_size_ratio=ratio)
  assert input_pipeline.should_cache(files, fits)
  assert not input_pipeline.should_cache(files, too_big)
  assert input_pipeline.should_cache(files, _config(shards, cache=True, cache_budget_bytes=0))
  # Uncompressed files count at their size, not inflated by the GZIP ratio.
  plain_files = synthetic.write_shards(str(tmp_path / 'plain'), 2, 10, compression='none')
  size = sum(os.path.getsize(path) for path in plain_files)
  assert input_pipeline.should_cache(plain_files, _config(shards, cache_budget_bytes=size))
  assert not input_pipeline.should_cache(plain_files,
                                         _config(shards, cache_budget_bytes=size - 1))
  assert not input_pipeline.should_cache(files, _config(shards, cache=False))


def test_input_context_gives_each_worker_disjoint_files(shards):
  files = input_pipeline.list_files([shards])
  contexts = [tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=i)
              for i in range(2)]
  worker_files = [input_pipeline.shard_files(files, context) for context in contexts]
  assert not set(worker_files[0]) & set(worker_files[1])
  assert sorted(worker_files[0] + worker_files[1]) == sorted(files)

  spec = synthetic.feature_spec(with_row_id=True)
  rows = [set(_row_ids(input_pipeline.make_dataset(_config(shards), spec, context)))
          for context in contexts]
  assert not rows[0] & rows[1]
  assert rows[0] | rows[1] == set(range(_NUM_FILES * _ROWS_PER_FILE))


def test_fewer_files_than_workers_shards_records_disjointly(tmp_path):
  synthetic.write_shards(str(tmp_path), 1, 30)
  spec = synthetic.feature_spec(with_row_id=True)
  rows = []
  for worker in range(3):
    context = tf.distribute.InputContext(num_input_pipelines=3, input_pipeline_id=worker)
    config = _config(str(tmp_path / '*.gz'), is_training=True, batch_size=5)
    rows.append(set(_row_ids(input_pipeline.make_dataset(config, spec, context), batches=4)))
  assert all(len(worker_rows) == 10 for worker_rows in rows)
  assert set.union(*rows) == set(range(30))


def test_deterministic_override_applies_to_the_options(shards):
  spec = synthetic.feature_spec()
  training = input_pipeline.make_dataset(_config(shards, is_training=True), spec)
  forced = input_pipeline.make_dataset(_config(shards, is_training=True, deterministic=True),
                                       spec)
  evaluation = input_pipeline.make_dataset(_config(shards), spec)
  assert training.options().deterministic is False
  assert forced.options().deterministic is True
  assert evaluation.options().deterministic is True


@pytest.mark.parametrize('overrides, message', [
    (dict(file_patterns=()), 'file_patterns is empty'),
    (dict(file_patterns='a/*.gz'), "got the string 'a/\\*.gz'"),
    (dict(batch_size=0), 'batch_size must be >= 1, got 0'),
    (dict(cycle_length=-1), 'cycle_length must be >= 1, got -1'),
    (dict(cache_budget_bytes=-5), 'cache_budget_bytes must be >= 0, got -5'),
    (dict(decompressed_size_ratio=0.0), 'decompressed_size_ratio must be > 0, got 0.0'),
    (dict(max_examples=-1), 'max_examples must be >= 0, got -1'),
    (dict(max_examples=10, is_training=True),
     r'max_examples \(10\) bounds an evaluation pass; training repeats its data'),
])
def test_input_config_rejects_bad_values(overrides, message):
  with pytest.raises(ValueError, match=message):
    _config('x/*.gz', **overrides)
