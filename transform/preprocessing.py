"""The TF Transform `preprocessing_fn`: raw columns in, model features and label out, as the
dataset definition (datasets/definition.py) says.

Referenced by the pipeline as `transform.preprocessing.preprocessing_fn`; the definition comes
in Transform's custom_config. Its graph is saved by Transform and re-applied inside the serving
signature, so serving computes the same features.
"""

from typing import Any, Dict

import tensorflow as tf
import tensorflow_transform as tft

from datasets import label_expression
from datasets.definition import Column, Dataset, transformed_name



def preprocessing_fn(inputs, custom_config: Dict[str, Any]):
  """Maps raw features (a dict of tensors keyed by CSV column) to transformed features."""
  return transform_features(inputs, Dataset.from_custom_config(custom_config, 'Transform'))


def transform_features(inputs, dataset: Dataset) -> Dict[str, tf.Tensor]:
  outputs = {transformed_name(column.name): _feature(inputs[column.name], column)
             for column in dataset.features()}
  # The label may be absent: serving requests leave it out.
  if dataset.label.column in inputs:
    outputs[dataset.label_key] = _label(inputs, dataset)
  return outputs


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


def _label(inputs, dataset: Dataset) -> tf.Tensor:
  label = dataset.label
  if label.expression:
    # Missing values count as 0 in the expression (taxi: a missing tip is no big tip).
    values = {name: tf.cast(fill_in_missing(inputs[name], 0), tf.float32)
              for name in label_expression.columns_of(label.expression)}
    value = label_expression.evaluate(label.expression, values, tf)
  else:
    value = fill_in_missing(inputs[label.column],
                            '' if inputs[label.column].dtype == tf.string else 0)
  if dataset.task == 'regression':
    return tf.cast(value, tf.float32)
  if dataset.task == 'binary':
    return tf.cast(tf.cast(value, tf.bool) if value.dtype == tf.bool else value > 0, tf.int64)
  # Multiclass: the index of the value in `classes`; -1 for a value not listed (the schema's
  # label domain refuses such data before Transform).
  if value.dtype != tf.string:
    value = tf.strings.as_string(tf.cast(value, tf.int64))
  table = tf.lookup.StaticHashTable(
      tf.lookup.KeyValueTensorInitializer(
          tf.constant([str(name) for name in label.classes]),
          tf.range(len(label.classes), dtype=tf.int64)),
      default_value=-1)
  return table.lookup(value)


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


def fill_in_missing(value, default) -> tf.Tensor:
  """Returns `value` as a dense rank-1 tensor, with `default` where a row has no value.

  Columns that may be empty in the CSV arrive as SparseTensors of dense shape [batch, 1].
  """
  if not isinstance(value, tf.sparse.SparseTensor):
    return tf.reshape(value, [-1])
  return tf.squeeze(
      tf.sparse.to_dense(
          tf.SparseTensor(value.indices, value.values, [value.dense_shape[0], 1]),
          tf.cast(default, value.dtype)),
      axis=1)
