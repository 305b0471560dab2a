"""Transform's own statistics, of the label only (referenced as
`transform.statistics.stats_options_updater_fn`).

Besides its graph and transformed examples, TFX's Transform computes statistics of every input
column on the analyzed rows (pre-transform) and of every output feature on all rows
(post-transform), and validates the latter against the output schema: two more statistics
passes after StatisticsGen's, on the component that dominates at scale. The pipeline reads one
thing from them: the transformed label's distribution, which LabelGate checks. So both passes
cover the label alone (the raw label column before; the transformed label after, its
validation and the post-transform schema with it). StatisticsGen still computes and validates
every raw column; the transformed features' full schema is the transform graph's metadata,
which the Trainer reads.
"""

from typing import Any, Dict

import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.components.transform import stats_options_util

from datadefs.definition import Dataset


def stats_options_updater_fn(stats_type: stats_options_util.StatsType,
                             stats_options: tfdv.StatsOptions,
                             custom_config: Dict[str, Any]) -> tfdv.StatsOptions:
  """Restricts Transform's statistics (and schema, for validation) to the label."""
  dataset = Dataset.from_custom_config(custom_config, 'Transform')
  label = (dataset.label.column if stats_type == stats_options_util.StatsType.PRE_TRANSFORM
           else dataset.label_key)
  stats_options.feature_allowlist = [label]
  if stats_options.schema is not None:
    stats_options.schema = label_only(stats_options.schema, label)
  return stats_options


def label_only(schema: schema_pb2.Schema, label: str) -> schema_pb2.Schema:
  """`schema` with the label's feature only (and no global constraints on the others)."""
  kept = schema_pb2.Schema()
  kept.CopyFrom(schema)
  del kept.feature[:]
  del kept.sparse_feature[:]
  kept.feature.extend(feature for feature in schema.feature if feature.name == label)
  return kept
