"""The bundled taxi dataset's names, as tests use them."""

import datadefs
from datadefs.definition import transformed_name

TAXI = datadefs.load('taxi')
LABEL_KEY = TAXI.label_key  # 'tips_xf'
NUMERIC = [transformed_name(column.name) for column in TAXI.features('numeric')]
ALL_FEATURES = [transformed_name(column.name) for column in TAXI.features()]
BUCKETIZED = [transformed_name(column.name) for column in TAXI.features('bucketized')]
