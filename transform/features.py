"""The one place that says which raw columns exist and what each becomes.

Preprocessing (transform/preprocessing.py), the model (trainer/model.py), the serving signatures
(trainer/signatures.py) and the CSV pre-flight check (pipeline/preflight.py) all import this
module, so a feature is added or renamed here once.
"""

from typing import Dict, List

# Continuous values, z-scored by Transform.
DENSE_FLOAT_FEATURE_KEYS: List[str] = ['trip_miles', 'fare', 'trip_seconds']

# Coordinates, bucketized into quantiles by Transform.
BUCKET_FEATURE_KEYS: List[str] = [
    'pickup_latitude', 'pickup_longitude', 'dropoff_latitude', 'dropoff_longitude'
]
FEATURE_BUCKET_COUNT = 10

# Values mapped to integer ids through a vocabulary computed over the training data. Census
# tracts are 11-digit integers, so they get a vocabulary too rather than being used as ids.
VOCAB_FEATURE_KEYS: List[str] = [
    'payment_type', 'company', 'pickup_census_tract', 'dropoff_census_tract'
]
VOCAB_SIZE = 1000
OOV_SIZE = 10

# Small integer categories used as ids directly; the value is the number of ids (0..n-1) the
# model embeds. Out-of-range values are clipped into range by preprocessing.
CATEGORICAL_FEATURE_IDS: Dict[str, int] = {
    'trip_start_hour': 24,
    'trip_start_day': 8,
    'trip_start_month': 13,
    'pickup_community_area': 78,
    'dropoff_community_area': 78,
}
CATEGORICAL_FEATURE_KEYS: List[str] = list(CATEGORICAL_FEATURE_IDS)

# The label is derived: did the rider tip more than 20% of the fare?
LABEL_KEY = 'tips'
FARE_KEY = 'fare'
BIG_TIP_FRACTION = 0.2

# Raw CSV columns and the value type each must parse as ('' means missing and is allowed).
# Columns read but not used by the model are listed too: the CSV contract is the whole file.
RAW_COLUMN_TYPES: Dict[str, type] = {
    'pickup_community_area': int,
    'fare': float,
    'trip_start_month': int,
    'trip_start_hour': int,
    'trip_start_day': int,
    'trip_start_timestamp': int,
    'pickup_latitude': float,
    'pickup_longitude': float,
    'dropoff_latitude': float,
    'dropoff_longitude': float,
    'trip_miles': float,
    'pickup_census_tract': int,
    'dropoff_census_tract': int,
    'payment_type': str,
    'company': str,
    'trip_seconds': int,
    'dropoff_community_area': int,
    'tips': float,
}


def transformed_name(key: str) -> str:
  """The name Transform gives the feature made from raw column `key`."""
  return key + '_xf'


def transformed_names(keys: List[str]) -> List[str]:
  return [transformed_name(key) for key in keys]


TRANSFORMED_LABEL_KEY = transformed_name(LABEL_KEY)
