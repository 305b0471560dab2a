"""LabelGate: fails before the Trainer when the training label (almost) never varies.

A label that is one value everywhere passes schema validation and even "trains": the model
learns the constant, and accuracy can look fine. The gate reads Transform's post-transform
statistics of the label and stops the run, naming the label and what it saw. It knows nothing
of any dataset: the label's transformed name, its source column and the task are parameters.
"""

import os

import tensorflow as tf
from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx import v1 as tfx

_STATS_FILE = 'FeatureStats.pb'  # What Transform writes for post_transform_stats (TFX 1.16).


class LabelError(ValueError):
  """The training label cannot teach a model anything; the message says why."""


def _label_stats(stats: statistics_pb2.DatasetFeatureStatisticsList, label: str):
  for dataset in stats.datasets:
    for feature in dataset.features:
      if feature.path.step and feature.path.step[-1] == label:
        return feature.num_stats
  raise LabelError(f'label {label!r} is missing from the post-transform statistics')


def minority_fraction(stats: statistics_pb2.DatasetFeatureStatisticsList,
                      label: str) -> float:
  """The fraction of examples in the less frequent class of a 0/1 label."""
  positive = _label_stats(stats, label).mean  # Mean of a 0/1 label: the fraction of 1s.
  return min(positive, 1.0 - positive)


def check_label(stats: statistics_pb2.DatasetFeatureStatisticsList, label: str,
                min_fraction: float, task: str = 'binary', column: str = '') -> None:
  """Binary: the rarer class is at least min_fraction. Multiclass and regression: the label
  takes more than one value."""
  examples = stats.datasets[0].num_examples if stats.datasets else 0
  source = f' (from column {column!r})' if column else ''
  if task == 'binary':
    fraction = minority_fraction(stats, label)
    if fraction < min_fraction:
      raise LabelError(
          f'label {label!r}{source} is almost one value: its rarer class is {fraction:.2%} of '
          f'{examples} training examples (minimum {min_fraction:.2%}); a model cannot learn '
          'from it. Check the label column of the input data.')
    return
  spread = _label_stats(stats, label)
  if spread.std_dev <= 0:
    raise LabelError(
        f'label {label!r}{source} is {spread.mean:g} in all {examples} training examples; a '
        'model cannot learn from it. Check the label column of the input data.')


@tfx.dsl.components.component
def LabelGate(  # pylint: disable=invalid-name
    statistics: tfx.dsl.components.InputArtifact[
        tfx.types.standard_artifacts.ExampleStatistics],
    label_key: tfx.dsl.components.Parameter[str],
    task: tfx.dsl.components.Parameter[str] = 'binary',
    label_column: tfx.dsl.components.Parameter[str] = '',
    min_minority_fraction: tfx.dsl.components.Parameter[float] = 0.01,
) -> None:
  """Raises LabelError when label `label_key` cannot teach a model (see check_label)."""
  with tf.io.gfile.GFile(os.path.join(statistics.uri, _STATS_FILE), 'rb') as f:
    stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(f.read())
  check_label(stats, label_key, min_minority_fraction, task, label_column)
