"""Re-creates datadefs/taxi/schema.pbtxt from StatisticsGen's output, as it was curated.

  .venv/bin/python tools/curate_schema.py pipeline_home/pipeline_root/StatisticsGen/statistics/<id>/Split-train/FeatureStats.pb

The schema is the contract new data is validated against; run this only to rebuild it
deliberately (e.g. after adding a column), then review the diff.
"""

import os
import sys

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

import tensorflow_data_validation as tfdv  # pylint: disable=wrong-import-position
from google.protobuf import text_format  # pylint: disable=wrong-import-position

HEADER = """\
# Curated schema for the Chicago taxi CSV: the contract new data is validated against
# (ImportSchemaGen), so bad data cannot re-define the schema. Made by tools/curate_schema.py:
# TFDV's inference over StatisticsGen's output for the embedded taxi sample, then curated:
# payment_type and company domains with unseen-value thresholds (distribution_constraints) and
# drift thresholds (drift_comparator), at least one example per split, `tips` (the label
# source) absent from the SERVING environment, pickup_census_tract optional.
# Edit deliberately: every change here changes what data is accepted.
"""


def curate(statistics_path: str):
  schema = tfdv.infer_schema(tfdv.load_stats_binary(statistics_path))
  # Unseen categories: payment_type is a closed set (1% slack); company names change more.
  tfdv.get_feature(schema, 'payment_type').distribution_constraints.min_domain_mass = 0.99
  tfdv.get_feature(schema, 'company').distribution_constraints.min_domain_mass = 0.9
  # Drift between the data of successive runs (spans), checked by AnomaliesGate against the
  # latest accepted data: L-infinity distance between category frequencies.
  tfdv.get_feature(schema, 'payment_type').drift_comparator.infinity_norm.threshold = 0.1
  tfdv.get_feature(schema, 'company').drift_comparator.infinity_norm.threshold = 0.2
  # A split with no examples cannot be trained or evaluated on.
  schema.dataset_constraints.min_examples_count = 1
  # Almost always empty in the source data (1 value in 15k rows): allow it to be absent.
  census = tfdv.get_feature(schema, 'pickup_census_tract')
  census.presence.min_fraction = 0.0
  census.presence.min_count = 0
  # The label is not sent at serving time.
  schema.default_environment.extend(['TRAINING', 'SERVING'])
  tfdv.get_feature(schema, 'tips').not_in_environment.append('SERVING')
  return schema


if __name__ == '__main__':
  if len(sys.argv) != 2:
    sys.exit(__doc__)
  output = os.path.join(os.path.dirname(__file__), '..', 'datadefs', 'taxi', 'schema.pbtxt')
  with open(output, 'w') as f:
    f.write(HEADER + text_format.MessageToString(curate(sys.argv[1])))
