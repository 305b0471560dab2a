"""Writing TypedCsvExampleGen's shards, and counting the rows it reads: each shard of every
split is written from its block slices (Arrow IPC bytes) in a fixed order, each row to its split
by the base module's _PartitionFn over its serialized tf.Example; a row without a label is left
out, and counted in the split it hashes to, with each column's missing cells
(core/data_quality.py). The counts become the Examples artifact's `data_quality` property."""

import json
import os
from typing import Any, Dict, Iterator, Mapping, Sequence

from absl import logging
import numpy as np
import pyarrow as pa
import tensorflow as tf
from tfx import types
from tfx.components.example_gen import base_example_gen_executor
from tfx.components.example_gen import write_split
from tfx.proto import example_gen_pb2

from core import data_quality
from core import example_files
from core.example_files import ExampleFilesConfig
from datadefs.tabular import examples as encoding

# The split_index of examples split by hash (output_config's split_config).
HASHED = -1
_INCOMPLETE = '.incomplete'
# The job's counts of the rows it read (core/data_quality.py), read back into the artifact's
# property once the job is done, then removed.
COUNTS_FILE = '.data_quality.json'


def batch_of(data: bytes) -> pa.RecordBatch:
  return pa.ipc.open_stream(data).read_next_batch()


def labelled_rows(batch: pa.RecordBatch, label_requires: Sequence[str]) -> np.ndarray:
  """Which rows have a label: every column in `label_requires` present."""
  labelled = np.ones(batch.num_rows, bool)
  for name in label_requires:
    labelled &= batch.column(name).is_valid().to_numpy(zero_copy_only=False)
  return labelled


def shard_path(split_dir: str, shard: int, files: ExampleFilesConfig) -> str:
  return os.path.join(split_dir, f'{write_split.DEFAULT_TF_RECORD_FILE_NAME}-{shard:05d}-of-'
                      f'{files.num_shards:05d}{files.suffix}')


def write_shard(keyed, split_dirs: Sequence[str], files: ExampleFilesConfig,
                column_types: Mapping[str, str], buckets: Sequence[int],
                split_config: example_gen_pb2.SplitConfig,
                label_requires: Sequence[str] = ()) -> Iterator[Dict[str, Any]]:
  """Writes shard `shard` of every split: its slices in split, file and block order (the same
  bytes on every run), each example to its split by the base module's _PartitionFn; a row
  without a label is left out. Yields the shard's counts ({split index: counts}, as
  core/data_quality.py adds them up): a row is counted in the split it would be in."""
  shard, slices = keyed
  parse = split_config.HasField('partition_feature_name')
  options = example_files.COMPRESSIONS[files.compression].tf_type
  writers = {}
  counts = []
  try:
    for split_index, _, _, data in sorted(slices, key=lambda value: value[:3]):
      batch = batch_of(data)
      records = encoding.serialize_examples(batch, column_types)
      if split_index == HASHED:
        splits = np.array([base_example_gen_executor._PartitionFn(  # pylint: disable=protected-access
            tf.train.Example.FromString(record) if parse else record, len(buckets), buckets,
            split_config) for record in records], np.int64)
      else:
        splits = np.full(len(records), split_index, np.int64)
      labelled = labelled_rows(batch, label_requires)
      counts.append(_counts(batch, splits, labelled, len(split_dirs)))
      for record, split, keep in zip(records, splits.tolist(), labelled.tolist()):
        if not keep:
          continue
        if split not in writers:
          writers[split] = tf.io.TFRecordWriter(
              shard_path(split_dirs[split], shard, files) + _INCOMPLETE, options=options)
        writers[split].write(record)
  finally:
    for writer in writers.values():
      writer.close()
  for split in writers:
    path = shard_path(split_dirs[split], shard, files)
    tf.io.gfile.rename(path + _INCOMPLETE, path, overwrite=True)
  yield data_quality.merge(counts)


def _counts(batch: pa.RecordBatch, splits: np.ndarray, labelled: np.ndarray,
            num_splits: int) -> Dict[str, Any]:
  """{split index (text): counts} of one batch of rows."""
  rows = np.bincount(splits, minlength=num_splits)
  unlabelled = np.bincount(splits[~labelled], minlength=num_splits)
  missing = {name: np.bincount(splits[batch.column(name).is_null().to_numpy(
      zero_copy_only=False)], minlength=num_splits) for name in batch.schema.names}
  return {str(split): data_quality.split_counts(
      rows[split], unlabelled[split], {name: found[split] for name, found in missing.items()})
          for split in range(num_splits) if rows[split]}


def write_counts(counts: Dict[str, Any], path: str) -> None:
  with tf.io.gfile.GFile(path, 'w') as f:
    f.write(json.dumps(counts))


def record_counts(artifact: types.Artifact, counts_path: str, split_names: Sequence[str],
                   label_requires: Sequence[str], columns: Sequence[str]) -> None:
  """Sets the artifact's `data_quality` property from the job's counts file (then removed);
  logs what was left out."""
  with tf.io.gfile.GFile(counts_path) as f:
    by_index = json.loads(f.read())
  tf.io.gfile.remove(counts_path)
  splits = {name: by_index.get(str(index), data_quality.split_counts())
            for index, name in enumerate(split_names)}
  artifact.set_string_custom_property(
      data_quality.PROPERTY, data_quality.to_property(splits, label_requires, columns))
  for name, counts in splits.items():
    logging.info('TypedCsvExampleGen: split %s: %d rows read, %d left out without a label %s',
                 name, counts['rows'], counts['rows_without_label'], list(label_requires))
