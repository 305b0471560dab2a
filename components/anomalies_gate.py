"""AnomaliesGate: fails the run when ExampleValidator found anomalies, naming each one.

ExampleValidator only records anomalies; without a gate, Transform and Trainer would go on and
train on the bad data. The gate sits between them.
"""

import os
from typing import List, Tuple

import tensorflow as tf
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx import v1 as tfx
from tfx.types import artifact_utils

_SCHEMA_DIFF_FILE = 'SchemaDiff.pb'  # What ExampleValidator writes per split (TFX 1.16).


class DataAnomaliesError(ValueError):
  """The data does not match the curated schema; the message lists every anomaly."""


def read_anomalies(split_dir: str) -> anomalies_pb2.Anomalies:
  path = os.path.join(split_dir, _SCHEMA_DIFF_FILE)
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


def format_anomalies(rows: List[Tuple[str, ...]]) -> str:
  lines = [f'data validation found {len(rows)} anomal{"y" if len(rows) == 1 else "ies"} '
           'against the curated schema (pipeline/schema/schema.pbtxt):']
  lines += [f'  [{split}] {feature}: {kind}: {description}'
            for split, feature, kind, description in rows]
  return '\n'.join(lines)


@tfx.dsl.components.component
def AnomaliesGate(  # pylint: disable=invalid-name
    anomalies: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ExampleAnomalies],
) -> None:
  """Raises DataAnomaliesError listing (split, feature, kind, description) for each anomaly."""
  rows = []
  for split in artifact_utils.decode_split_names(anomalies.split_names):
    split_dir = artifact_utils.get_split_uri([anomalies], split)
    rows += describe_anomalies(split, read_anomalies(split_dir))
  if rows:
    raise DataAnomaliesError(format_anomalies(rows))
