"""Missing values in raw columns: a column that can be empty arrives as a SparseTensor of dense
shape [batch, 1]; these make it dense."""

import tensorflow as tf


def fill_in_missing(value, default) -> tf.Tensor:
  """Returns `value` as a dense rank-1 tensor, with `default` where a row has no value."""
  if not isinstance(value, tf.sparse.SparseTensor):
    return tf.reshape(value, [-1])
  return tf.squeeze(
      tf.sparse.to_dense(
          tf.SparseTensor(value.indices, value.values, [value.dense_shape[0], 1]),
          tf.cast(default, value.dtype)),
      axis=1)
