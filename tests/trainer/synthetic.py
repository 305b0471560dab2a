"""Small synthetic Transform outputs: TFRecord shards (GZIP unless asked otherwise) of
transformed tf.Examples that the model accepts, each carrying a unique `row_id` so tests can
check which rows were read."""

import os
from typing import Dict, List

import numpy as np
import tensorflow as tf

from trainer import model as model_lib
from tests import taxi

ROW_ID = 'row_id'


def feature_spec(with_row_id: bool = False) -> Dict[str, tf.io.FixedLenFeature]:
  """The transformed feature spec the trainer parses (plus row_id when asked)."""
  spec = {name: tf.io.FixedLenFeature([], tf.float32)
          for name in taxi.NUMERIC}
  spec.update({name: tf.io.FixedLenFeature([], tf.int64)
               for name in model_lib.id_feature_sizes(taxi.TAXI)})
  spec[taxi.LABEL_KEY] = tf.io.FixedLenFeature([], tf.int64)
  if with_row_id:
    spec[ROW_ID] = tf.io.FixedLenFeature([], tf.int64)
  return spec


def example(row_id: int, rng: np.random.Generator) -> bytes:
  feature = {ROW_ID: _int(row_id)}
  for name in taxi.NUMERIC:
    feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=[rng.normal()]))
  for name, num_ids in model_lib.id_feature_sizes(taxi.TAXI).items():
    feature[name] = _int(int(rng.integers(num_ids)))
  feature[taxi.LABEL_KEY] = _int(int(rng.integers(2)))
  return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write_shards(directory: str, num_files: int, rows_per_file: int, seed: int = 0,
                 compression: str = 'gzip', first_row: int = 0) -> List[str]:
  """Writes num_files shards of rows_per_file examples, GZIP ('*.gz') or uncompressed
  ('*.tfrecord'); row ids are first_row.. first_row + n - 1 overall."""
  os.makedirs(directory, exist_ok=True)
  rng = np.random.default_rng(seed)
  paths = []
  for index in range(num_files):
    suffix = '.gz' if compression == 'gzip' else '.tfrecord'
    path = os.path.join(
        directory, f'transformed_examples-{index:05d}-of-{num_files:05d}{suffix}')
    with tf.io.TFRecordWriter(path, options='GZIP' if compression == 'gzip' else '') as writer:
      for row in range(rows_per_file):
        writer.write(example(first_row + index * rows_per_file + row, rng))
    paths.append(path)
  return paths


def _int(value: int) -> tf.train.Feature:
  return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
