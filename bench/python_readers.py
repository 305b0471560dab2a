"""Python-side readers of the GZIP TFRecord shards, for the baselines that parse in Python.

A pure-Python TFRecord reader (gzip + the record framing) and per-example tf.train.Example
parsing into numpy, used by the `keras_sequence` and `from_generator` variants.
"""

import gzip
import itertools
import struct
import threading
from typing import Dict, Iterator, List, Sequence, Tuple

import numpy as np
import tensorflow as tf

# TFRecord framing: uint64 length, uint32 masked CRC of the length, data, uint32 CRC of data.
_LENGTH = struct.Struct('<Q')
_HEADER_BYTES = 12
_FOOTER_BYTES = 4


def read_records(path: str) -> Iterator[bytes]:
  """Yields the serialized records of one GZIP TFRecord file (CRCs are not checked)."""
  with gzip.open(path, 'rb') as f:
    while True:
      header = f.read(_HEADER_BYTES)
      if not header:
        return
      if len(header) < _HEADER_BYTES:
        raise ValueError(f'{path}: truncated record header ({len(header)} bytes)')
      (length,) = _LENGTH.unpack_from(header)
      record = f.read(length)
      if len(record) < length or len(f.read(_FOOTER_BYTES)) < _FOOTER_BYTES:
        raise ValueError(f'{path}: truncated record of {length} bytes')
      yield record


class ExampleParser:
  """Parses serialized tf.Examples of scalar features into numpy, one example at a time."""

  def __init__(self, feature_spec: Dict[str, tf.io.FixedLenFeature], label_key: str):
    if label_key not in feature_spec:
      raise ValueError(f'label_key {label_key!r} is not in the feature spec')
    self.label_key = label_key
    self.dtypes = {name: spec.dtype.as_numpy_dtype for name, spec in feature_spec.items()}
    self.feature_keys = tuple(name for name in sorted(feature_spec) if name != label_key)
    self._float_keys = tuple(name for name in self.dtypes if feature_spec[name].dtype.is_floating)
    self._int_keys = tuple(name for name in self.dtypes if name not in self._float_keys)

  def output_signature(self) -> Tuple[Dict[str, tf.TensorSpec], tf.TensorSpec]:
    """Per-example (features, label) signature: every value is a scalar."""
    features = {name: tf.TensorSpec([], self.dtypes[name]) for name in self.feature_keys}
    return features, tf.TensorSpec([], self.dtypes[self.label_key])

  def parse(self, record: bytes) -> Dict[str, object]:
    """All values of one example, by feature name (the label included)."""
    feature = tf.train.Example.FromString(record).features.feature
    values = {name: feature[name].float_list.value[0] for name in self._float_keys}
    values.update({name: feature[name].int64_list.value[0] for name in self._int_keys})
    return values

  def parse_example(self, record: bytes) -> Tuple[Dict[str, object], object]:
    values = self.parse(record)
    label = values.pop(self.label_key)
    return values, label

  def parse_batch(self, records: Sequence[bytes]) -> Tuple[Dict[str, np.ndarray], np.ndarray]:
    """Parses example by example into preallocated [len(records)] numpy columns."""
    columns = {name: np.empty(len(records), dtype) for name, dtype in self.dtypes.items()}
    for row, record in enumerate(records):
      for name, value in self.parse(record).items():
        columns[name][row] = value
    label = columns.pop(self.label_key)
    return columns, label


def example_generator(files: Sequence[str], parser: ExampleParser):
  """A generator function (for tf.data.Dataset.from_generator): one pass over `files`."""

  def generate():
    for path in files:
      for record in read_records(path):
        yield parser.parse_example(record)

  return generate


class _ShardCursor:
  """A sequential reader of one shard that serves batch j of it; reopens to go backwards."""

  def __init__(self, path: str):
    self.path = path
    self.lock = threading.Lock()
    self._records = None
    self._next_batch = 0

  def read_batch(self, batch_index: int, batch_size: int) -> List[bytes]:
    with self.lock:
      if self._records is None or batch_index < self._next_batch:
        self._records = read_records(self.path)
        self._next_batch = 0
      skip = (batch_index - self._next_batch) * batch_size
      records = list(itertools.islice(self._records, skip, skip + batch_size))
      self._next_batch = batch_index + 1
    if len(records) < batch_size:
      raise IndexError(f'{self.path} has no batch {batch_index} of {batch_size} records')
    return records


class RecordSequence(tf.keras.utils.Sequence):
  """A Keras Sequence over the shards: batch i is batch i // num_shards of shard i % num_shards.

  Consecutive indices hit different shards, so the enqueuer's worker threads read different
  files; each shard is read sequentially under its own lock, parsing happens outside it.
  Partial batches at the end of a shard are dropped.
  """

  def __init__(self, files: Sequence[str], shard_examples: Sequence[int], batch_size: int,
               parser: ExampleParser):
    super().__init__()
    if len(files) != len(shard_examples):
      raise ValueError(f'{len(files)} files but {len(shard_examples)} shard sizes')
    self._cursors = [_ShardCursor(path) for path in files]
    self._batch_size = batch_size
    self._parser = parser
    self._batches_per_shard = min(shard_examples) // batch_size
    if self._batches_per_shard < 1:
      raise ValueError(f'every shard needs >= batch_size ({batch_size}) examples, '
                       f'got {min(shard_examples)}')

  def __len__(self) -> int:
    return self._batches_per_shard * len(self._cursors)

  def __getitem__(self, index: int):
    if not 0 <= index < len(self):
      raise IndexError(f'batch {index} out of range [0, {len(self)})')
    cursor = self._cursors[index % len(self._cursors)]
    records = cursor.read_batch(index // len(self._cursors), self._batch_size)
    return self._parser.parse_batch(records)
