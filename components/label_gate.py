"""LabelGate: fails before the Trainer when the training label (almost) never varies.

A label that is one value everywhere passes schema validation and even "trains": the model
learns the constant, and accuracy can look fine. The gate reads Transform's post-transform
statistics of the label and stops the run, naming the label and what it saw.
"""

import os

import tensorflow as tf
from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx import v1 as tfx

from transform import features

_STATS_FILE = 'FeatureStats.pb'  # What Transform writes for post_transform_stats (TFX 1.16).


class LabelError(ValueError):
  """The training label cannot teach a model anything; the message says why."""


def minority_fraction(stats: statistics_pb2.DatasetFeatureStatisticsList,
                      label: str) -> float:
  """The fraction of examples in the less frequent class of a 0/1 label."""
  for dataset in stats.datasets:
    for feature in dataset.features:
      if feature.path.step and feature.path.step[-1] == label:
        positive = feature.num_stats.mean  # Mean of a 0/1 label: the fraction of 1s.
        return min(positive, 1.0 - positive)
  raise LabelError(f'label {label!r} is missing from the post-transform statistics')


def check_label(stats: statistics_pb2.DatasetFeatureStatisticsList, label: str,
                min_fraction: float) -> None:
  fraction = minority_fraction(stats, label)
  if fraction < min_fraction:
    examples = stats.datasets[0].num_examples if stats.datasets else 0
    raise LabelError(
        f'label {label!r} (from column {features.LABEL_KEY!r}) is almost one value: its rarer '
        f'class is {fraction:.2%} of {examples} training examples (minimum {min_fraction:.2%});'
        ' a model cannot learn from it. Check the label column of the input data.')


@tfx.dsl.components.component
def LabelGate(  # pylint: disable=invalid-name
    statistics: tfx.dsl.components.InputArtifact[
        tfx.types.standard_artifacts.ExampleStatistics],
    min_minority_fraction: tfx.dsl.components.Parameter[float] = 0.01,
) -> None:
  """Raises LabelError when the rarer label class is under `min_minority_fraction`."""
  with tf.io.gfile.GFile(os.path.join(statistics.uri, _STATS_FILE), 'rb') as f:
    stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(f.read())
  check_label(stats, features.TRANSFORMED_LABEL_KEY, min_minority_fraction)
