"""The pipeline's train/eval split rule, in one place: the ExampleGen's output_config
(pipeline/graph.py) and `dataset init`'s baseline (datadefs/tabular/baseline.py) both take it
from here, so a row is in the same split for both.

A row's split is TFX's own: base_example_gen_executor._PartitionFn, a sha256 hash bucket of the
row's serialized tf.Example (datadefs/tabular/examples.py writes the same bytes CsvExampleGen
would), 2 of 3 buckets train and 1 eval.
"""

from typing import Sequence, Tuple

import numpy as np

# (split name, hash buckets), in split-index order.
SPLITS: Tuple[Tuple[str, int], ...] = (('train', 2), ('eval', 1))
SPLIT_NAMES = tuple(name for name, _ in SPLITS)


def output_config():
  """The ExampleGen's output_config: a 2:1 train/eval split by hash of the whole row, stable
  across runs of the same data."""
  # pylint: disable=import-outside-toplevel; TFX only where the proto is wanted
  from tfx.proto import example_gen_pb2
  return example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(splits=[
      example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=buckets)
      for name, buckets in SPLITS]))


def split_indices(records: Sequence[bytes]) -> np.ndarray:
  """The split index (into SPLIT_NAMES) of each serialized tf.Example, as the ExampleGen
  assigns it."""
  return _partition(records, output_config().split_config)


def split_indices_by_feature(name: str, values: Sequence[bytes]) -> np.ndarray:
  """The split index (into SPLIT_NAMES) of each example, for an ExampleGen that splits by one
  bytes feature's value (`partition_feature_name`: the image ExampleGen's content hash)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  split_config = output_config().split_config
  split_config.partition_feature_name = name
  return _partition([tf.train.Example(features=tf.train.Features(feature={
      name: tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))}))
                     for value in values], split_config)


def _partition(records: Sequence, split_config) -> np.ndarray:
  """TFX's own partition of each record (serialized, or a tf.Example) by `split_config`."""
  # pylint: disable=import-outside-toplevel
  from tfx.components.example_gen import base_example_gen_executor
  buckets = np.cumsum([buckets for _, buckets in SPLITS]).tolist()
  partition = base_example_gen_executor._PartitionFn  # pylint: disable=protected-access
  return np.array([partition(record, len(buckets), buckets, split_config)
                   for record in records], np.int64)
