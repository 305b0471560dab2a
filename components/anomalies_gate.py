"""AnomaliesGate: fails the run when the data does not match the curated schema, or drifted
too far from the last data that passed, naming each anomaly.

ExampleValidator only records anomalies; without a gate, Transform and Trainer would go on and
train on the bad data. The gate also compares this run's statistics with the statistics of the
latest data that passed the gate (`baseline_statistics`), using the drift comparators in the
curated schema (TFDV), and on success publishes this run's statistics as the next baseline.
"""

import os
import re
from typing import List, Tuple

import tensorflow as tf
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.dsl.component.experimental import annotations
from tfx.dsl.component.experimental import decorators
from tfx.types import standard_artifacts
from tfx.types import artifact_utils

from components import pipeline_scope as scope_lib
from core.names import SCHEMA_DIFF_FILE, SCHEMA_FILE, STATS_FILE

_DRIFT_SPLIT = 'train'

Statistics = standard_artifacts.ExampleStatistics


class DataAnomaliesError(ValueError):
  """The data does not match the curated schema; the message lists every anomaly."""


def read_anomalies(split_dir: str) -> anomalies_pb2.Anomalies:
  path = os.path.join(split_dir, SCHEMA_DIFF_FILE)
  with tf.io.gfile.GFile(path, 'rb') as f:
    return anomalies_pb2.Anomalies.FromString(f.read())


def describe_anomalies(split: str, anomalies: anomalies_pb2.Anomalies) -> List[Tuple[str, ...]]:
  """Returns (split, feature, kind, description) rows, one per anomaly reason, sorted."""
  rows = []
  for feature, info in anomalies.anomaly_info.items():
    for reason in info.reason:
      kind = anomalies_pb2.AnomalyInfo.Type.Name(reason.type)
      rows.append((split, feature, kind, reason.description or info.description))
  if anomalies.HasField('dataset_anomaly_info'):
    for reason in anomalies.dataset_anomaly_info.reason:
      kind = anomalies_pb2.AnomalyInfo.Type.Name(reason.type)
      rows.append((split, '<dataset>', kind, reason.description))
  return sorted(rows)


# TFDV lists every unseen value ("Examples contain values missing from the schema: a (<1%), b
# (~5%), ..."): thousands on one line for an id-like column. The message keeps the count and the
# first few; the run report lists them all (from ExampleValidator's anomalies).
_UNSEEN = re.compile(r'^(?P<head>.*values missing from the schema: )(?P<values>.*?)(?P<end>\.?)$',
                     re.S)
_VALUES_SHOWN = 5


def shorten_description(description: str) -> str:
  match = _UNSEEN.match(description)
  if not match:
    return description
  values = [v.strip() for v in re.split(r',\s(?![^()]*\))', match['values']) if v.strip()]
  if len(values) <= _VALUES_SHOWN:
    return description
  return (f'{match["head"]}{len(values)} values, e.g. {", ".join(values[:_VALUES_SHOWN])}, ... '
          '(all of them in the run report)')


def format_anomalies(rows: List[Tuple[str, ...]]) -> str:
  lines = [f'data validation found {len(rows)} anomal{"y" if len(rows) == 1 else "ies"} '
           'against the curated schema (the dataset schema.pbtxt):']
  lines += [f'  [{split}] {feature}: {kind}: {shorten_description(description)}'
            for split, feature, kind, description in rows]
  return '\n'.join(lines)


def empty_split_rows(statistics) -> List[Tuple[str, ...]]:
  """A row per split with no examples: the schema's per-feature anomalies alone hide that."""
  rows = []
  for split in artifact_utils.decode_split_names(statistics.split_names):
    stats = tfdv.load_stats_binary(
        os.path.join(artifact_utils.get_split_uri([statistics], split), STATS_FILE))
    if not any(dataset.num_examples for dataset in stats.datasets):
      rows.append((split, '<dataset>', 'EMPTY_SPLIT',
                   f'split {split!r} has no examples: too little input data for a '
                   'train/eval split'))
  return rows


def drift_rows(statistics_dir: str, baseline_dir: str, schema) -> List[Tuple[str, ...]]:
  """Anomalies of the schema's drift comparators: this split's statistics vs the baseline's."""
  current = tfdv.load_stats_binary(os.path.join(statistics_dir, STATS_FILE))
  previous = tfdv.load_stats_binary(os.path.join(baseline_dir, STATS_FILE))
  anomalies = tfdv.validate_statistics(current, schema, previous_statistics=previous)
  return [row for row in describe_anomalies(f'{_DRIFT_SPLIT} vs last accepted data', anomalies)
          if 'DRIFT' in row[2] or 'COMPARATOR' in row[2]]


@decorators.component
def AnomaliesGate(  # pylint: disable=invalid-name
    anomalies: annotations.InputArtifact[standard_artifacts.ExampleAnomalies],
    statistics: annotations.InputArtifact[Statistics],
    schema: annotations.InputArtifact[standard_artifacts.Schema],
    validated_statistics: annotations.OutputArtifact[Statistics],
    baseline_statistics: annotations.InputArtifact[Statistics] = None,  # First run: none.
    pipeline_scope: annotations.Parameter[str] = '',
) -> None:
  """Raises DataAnomaliesError listing (split, feature, kind, description) for each anomaly.

  On success the validated statistics are stamped with `pipeline_scope` (the pipeline name), so
  the next run's drift baseline resolves only statistics this pipeline's gate accepted.
  """
  rows = empty_split_rows(statistics)
  for split in artifact_utils.decode_split_names(anomalies.split_names):
    rows += describe_anomalies(split, read_anomalies(
        artifact_utils.get_split_uri([anomalies], split)))
  if baseline_statistics is not None:
    loaded_schema = tfdv.load_schema_text(os.path.join(schema.uri, SCHEMA_FILE))
    rows += drift_rows(artifact_utils.get_split_uri([statistics], _DRIFT_SPLIT),
                       artifact_utils.get_split_uri([baseline_statistics], _DRIFT_SPLIT),
                       loaded_schema)
  if rows:
    raise DataAnomaliesError(format_anomalies(rows))
  # Accepted: publish these statistics as the baseline the next run's drift is measured from.
  validated_statistics.split_names = statistics.split_names
  scope_lib.stamp(validated_statistics, pipeline_scope)
  for split in artifact_utils.decode_split_names(statistics.split_names):
    source = os.path.join(artifact_utils.get_split_uri([statistics], split), STATS_FILE)
    target_dir = artifact_utils.get_split_uri([validated_statistics], split)
    tf.io.gfile.makedirs(target_dir)
    tf.io.gfile.copy(source, os.path.join(target_dir, STATS_FILE), overwrite=True)
