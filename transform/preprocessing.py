"""The TF Transform `preprocessing_fn` (referenced by the pipeline as
`transform.preprocessing.preprocessing_fn`): raw examples in, model features and label out, as
the dataset definition (datadefs/definition.py) says, which comes in Transform's custom_config.

Its graph is saved by Transform and re-applied inside the serving signature, so serving computes
the same features. Each data kind (datadefs/kinds.py) has its own features, registered below;
the label is made by the task kind (datadefs/tasks.py).
"""

from typing import Any, Callable, Dict

import tensorflow as tf

from datadefs import label_expression
from datadefs.definition import Dataset
from transform import images
from transform import tabular
from transform.missing import fill_in_missing

# The features of each data kind: (raw inputs, dataset) -> {transformed name: tensor}.
PREPROCESSORS: Dict[str, Callable[[Dict[str, Any], Dataset], Dict[str, tf.Tensor]]] = {
    'tabular': tabular.features,
    'image': images.features,  # the encoded bytes, passed through (no decoding)
}


def preprocessing_fn(inputs, custom_config: Dict[str, Any]):
  """Maps raw features (a dict of tensors keyed by raw column) to transformed features."""
  return transform_features(inputs, Dataset.from_custom_config(custom_config, 'Transform'))


def transform_features(inputs, dataset: Dataset) -> Dict[str, tf.Tensor]:
  outputs = PREPROCESSORS[dataset.kind](inputs, dataset)
  # The label may be absent: serving requests leave it out.
  if dataset.label.column in inputs:
    outputs[dataset.label_key] = label(inputs, dataset)
  return outputs


def label(inputs, dataset: Dataset) -> tf.Tensor:
  """The transformed label: the task's rule (datadefs/tasks.py) over the label column, or over
  the label expression's value."""
  definition = dataset.label
  # A row missing what its label needs never reaches Transform: the ExampleGen left it out
  # (datadefs/definition.py Label.required_columns), so the fills below only make the column
  # dense. Except where the definition says so (missing_inputs = "zero": taxi's "a missing tip
  # is no big tip"), when a missing input counts as 0.
  inputs = {name: _every_row_has_one(inputs[name], name) if name in definition.required_columns
            else inputs[name] for name in inputs}
  if definition.expression:
    values = {name: tf.cast(fill_in_missing(inputs[name], 0), tf.float32)
              for name in label_expression.columns_of(definition.expression)}
    value = label_expression.evaluate(definition.expression, values, tf)
  else:
    raw = inputs[definition.column]
    value = fill_in_missing(raw, '' if raw.dtype == tf.string else 0)
  return dataset.task_kind.label(value, definition.classes)


def _every_row_has_one(value, name: str):
  """`value`, once checked that no row misses it: a label is never made up."""
  if not isinstance(value, tf.sparse.SparseTensor):
    return value
  check = tf.debugging.assert_equal(
      tf.shape(value.values, out_type=tf.int64)[0], value.dense_shape[0], message=(
          f'label column {name!r} is missing in some rows: a row without a label is no '
          'example, and the ExampleGen leaves it out (these examples did not come through it)'))
  with tf.control_dependencies([check]):
    return tf.sparse.SparseTensor(value.indices, tf.identity(value.values), value.dense_shape)
