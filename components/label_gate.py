"""LabelGate: fails before the Trainer when the training label cannot teach a model anything.

A label that is one value everywhere passes schema validation and even "trains": the model
learns the constant, and accuracy can look fine. The gate reads Transform's post-transform
statistics of the label and stops the run, naming the label and what it saw. What "cannot
teach" means is the task kind's (datadefs/tasks.py: a binary label's rarer class is too rare;
any other label never varies). It knows nothing of any dataset: the label's transformed name,
its source column and the task are parameters.
"""

import os

import tensorflow as tf
from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx.dsl.component.experimental import annotations
from tfx.dsl.component.experimental import decorators
from tfx.types import standard_artifacts

from core.names import STATS_FILE
from datadefs import tasks
from datadefs.tasks import LabelError

__all__ = ['LabelError', 'LabelGate', 'check_label']


def _label_stats(stats: statistics_pb2.DatasetFeatureStatisticsList, label: str):
  for dataset in stats.datasets:
    for feature in dataset.features:
      if feature.path.step and feature.path.step[-1] == label:
        return feature.num_stats
  raise LabelError(f'label {label!r} is missing from the post-transform statistics')


def check_label(stats: statistics_pb2.DatasetFeatureStatisticsList, label: str,
                min_fraction: float, task: str = 'binary', column: str = '') -> None:
  """Raises LabelError when the label cannot teach a model, as the task kind judges it."""
  examples = stats.datasets[0].num_examples if stats.datasets else 0
  name = f'{label!r}' + (f' (from column {column!r})' if column else '')
  tasks.task(task).check_label_statistics(_label_stats(stats, label), examples, name,
                                          min_fraction)


@decorators.component
def LabelGate(  # pylint: disable=invalid-name
    statistics: annotations.InputArtifact[
        standard_artifacts.ExampleStatistics],
    label_key: annotations.Parameter[str],
    task: annotations.Parameter[str] = 'binary',
    label_column: annotations.Parameter[str] = '',
    min_minority_fraction: annotations.Parameter[float] = 0.01,
) -> None:
  """Raises LabelError when label `label_key` cannot teach a model (see check_label)."""
  with tf.io.gfile.GFile(os.path.join(statistics.uri, STATS_FILE), 'rb') as f:
    stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(f.read())
  check_label(stats, label_key, min_minority_fraction, task, label_column)
