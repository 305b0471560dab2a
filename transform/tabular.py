"""The tabular data kind's features: each column's role (datadefs/definition.py) as TF
Transform ops. A missing number counts as the column's mean: it z-scores to 0 and falls in the
mean's bucket, while the statistics are computed from the values present.
"""

from typing import Dict

import tensorflow as tf
import tensorflow_transform as tft

from datadefs.definition import Column, Dataset, transformed_name
from transform import dates
from transform.missing import fill_in_missing


def features(inputs, dataset: Dataset) -> Dict[str, tf.Tensor]:
  """{transformed name: feature} for every column the model reads (a date column makes
  several: transform/dates.py)."""
  found = {}
  for column in dataset.features():
    if column.role == 'date':
      found.update(dates.features(inputs[column.name], column, _z_score))
    else:
      found[transformed_name(column.name)] = _feature(inputs[column.name], column)
  return found


def _feature(value, column: Column) -> tf.Tensor:
  if column.role == 'numeric':
    return _z_score(value)
  if column.role == 'bucketized':
    return _bucketize(value, column.buckets)
  if column.role == 'vocabulary':
    value = fill_in_missing(value, '' if value.dtype == tf.string else -1)
    if value.dtype != tf.string:
      value = tf.strings.as_string(value)
    return tft.compute_and_apply_vocabulary(
        value, top_k=column.top_k, num_oov_buckets=column.oov)
  if column.role == 'integer_id':
    value = tf.cast(fill_in_missing(value, 0), tf.int64)
    return tf.clip_by_value(value, 0, column.num_ids - 1)
  raise ValueError(f'column {column.name!r}: role {column.role!r} makes no feature')


# A missing numeric value counts as the column's mean. Both functions below need only
# analyzers of the raw values, so TFT analyzes the data in one pass. Analyzing the mean-filled
# column instead (tft.scale_to_z_score / tft.bucketize of it) needs the mean first: a second
# pass over the whole input, for every column that can be empty.


def _z_score(value) -> tf.Tensor:
  """tft.scale_to_z_score of the mean-filled column: a missing value scores 0.

  Filling with the mean leaves the mean as it is and adds no squared deviation, so the filled
  column's (biased) variance is the present values' times the share of rows that have one.
  """
  value = _floats(value)
  if not isinstance(value, tf.sparse.SparseTensor):
    return tft.scale_to_z_score(value)
  mean = tft.mean(value.values)
  present_share = (tf.cast(tft.size(value.values), tf.float32)
                   / tf.cast(tft.size(tf.zeros(value.dense_shape[:1])), tf.float32))
  deviation = fill_in_missing(value, mean) - mean
  # As scale_to_z_score: a column without spread is only centred.
  std = tf.sqrt(tft.var(value.values) * present_share)
  return tf.where(tf.not_equal(std, 0), deviation / std, deviation)


def _bucketize(value, num_buckets: int) -> tf.Tensor:
  """Quantile bucket ids; a missing value is put in the mean's bucket.

  The boundaries are quantiles of the values present (as tft.bucketize computes them, same
  epsilon): the filled-in means do not move them.
  """
  value = _floats(value)
  if not isinstance(value, tf.sparse.SparseTensor):
    return tft.bucketize(value, num_buckets)
  boundaries = tft.quantiles(value.values, num_buckets, epsilon=min(1.0 / num_buckets, 0.01))
  return tft.apply_buckets(fill_in_missing(value, tft.mean(value.values)), boundaries)


def _floats(value):
  """A numeric column as float32: sparse (a column that can be empty) stays sparse, dense is
  made rank 1."""
  if isinstance(value, tf.sparse.SparseTensor):
    return tf.sparse.map_values(tf.cast, value, tf.float32)
  return tf.cast(tf.reshape(value, [-1]), tf.float32)
