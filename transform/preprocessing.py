"""The TF Transform `preprocessing_fn`: raw taxi columns in, model features and label out.

Referenced by the pipeline as `transform.preprocessing.preprocessing_fn`. Its graph is saved
by Transform and re-applied inside the serving signature, so serving computes the same features.
"""

import tensorflow as tf
import tensorflow_transform as tft

from transform import features


def _fill_in_missing(value, default):
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


def preprocessing_fn(inputs):
  """Maps raw features (a dict of tensors keyed by CSV column) to transformed features."""
  outputs = {}
  for key in features.DENSE_FLOAT_FEATURE_KEYS:
    value = tf.cast(_fill_in_missing(inputs[key], 0), tf.float32)
    outputs[features.transformed_name(key)] = tft.scale_to_z_score(value)

  for key in features.BUCKET_FEATURE_KEYS:
    value = tf.cast(_fill_in_missing(inputs[key], 0), tf.float32)
    outputs[features.transformed_name(key)] = tft.bucketize(
        value, features.FEATURE_BUCKET_COUNT)

  for key in features.VOCAB_FEATURE_KEYS:
    value = _fill_in_missing(inputs[key], '' if inputs[key].dtype == tf.string else -1)
    if value.dtype != tf.string:
      value = tf.strings.as_string(value)
    outputs[features.transformed_name(key)] = tft.compute_and_apply_vocabulary(
        value, top_k=features.VOCAB_SIZE, num_oov_buckets=features.OOV_SIZE)

  for key, num_ids in features.CATEGORICAL_FEATURE_IDS.items():
    value = tf.cast(_fill_in_missing(inputs[key], 0), tf.int64)
    outputs[features.transformed_name(key)] = tf.clip_by_value(value, 0, num_ids - 1)

  # Label: a "big tipper" tipped more than BIG_TIP_FRACTION of the fare. A missing fare or tip
  # counts as no big tip.
  fare = tf.cast(_fill_in_missing(inputs[features.FARE_KEY], 0), tf.float32)
  tips = tf.cast(_fill_in_missing(inputs[features.LABEL_KEY], 0), tf.float32)
  is_big_tip = tf.logical_and(
      tf.math.is_finite(fare), tf.greater(tips, fare * features.BIG_TIP_FRACTION))
  outputs[features.TRANSFORMED_LABEL_KEY] = tf.cast(is_big_tip, tf.int64)
  return outputs
