"""Raw rows become the tf.Examples ExampleGen writes for the same rows; bad ones are named."""

import base64
import csv

import pytest
import tensorflow as tf

import datadefs
from datadefs.tabular import csv_files
from datadefs.tabular import examples as examples_lib
from serving import instances
from serving import model as model_lib
from tests.conftest import EMBEDDED_CSV

TAXI = datadefs.load('taxi')


def test_a_raw_row_is_the_example_exampleGen_writes_for_it():
  with EMBEDDED_CSV.open(newline='') as file:
    rows = [row for _, row in zip(range(50), csv.DictReader(file))]
  served, errors = instances.to_examples(rows, TAXI)
  assert errors == [None] * len(rows)
  # ExampleGen's encoding of the same lines (the label column dropped: serving has none).
  batch = next(csv_files.read_batches(str(EMBEDDED_CSV), TAXI.column_types,
                                      TAXI.missing_values))
  features = instances.feature_types(TAXI)
  trained = examples_lib.serialize_examples(batch.slice(0, len(rows)),
                                            features)
  assert served == trained
  # JSON numbers and texts give the same bytes as CSV texts.
  typed = {key: (float(value) if TAXI.column_types[key] == 'float' and value else
                 int(value) if TAXI.column_types[key] == 'int' and value else value or None)
           for key, value in rows[0].items()}
  assert instances.to_examples([typed], TAXI)[0] == [trained[0]]


def test_b64_examples_pass_through_and_bad_instances_are_named():
  example = tf.train.Example().SerializeToString()
  served, errors = instances.to_examples([
      {'b64': base64.b64encode(example).decode()},
      {'trip_miles': 'far'}, {'colour': 'red'}, [1, 2], {'b64': 'not base64!'},
      {'trip_start_hour': 3.5}], TAXI)
  assert served[0] == example and errors[0] is None
  assert served[1:] == [None] * 5
  assert errors[1] == "column 'trip_miles': 'far' is not a number (declared \"float\")"
  assert errors[2].startswith("column(s) ['colour'] are not columns of dataset 'taxi'")
  assert errors[3].startswith('an instance is a JSON object of column values')
  assert errors[4].startswith('"b64" is not base64')
  assert errors[5] == "column 'trip_start_hour': 3.5 is not a number (declared \"int\")"


def test_a_folder_without_the_dataset_definition_says_what_is_missing(tmp_path):
  (tmp_path / 'saved_model.pb').write_bytes(b'')
  with pytest.raises(model_lib.ModelLoadError, match='has no assets.extra/dataset.json'):
    model_lib.load(str(tmp_path))
  with pytest.raises(model_lib.ModelLoadError, match='holds no saved_model.pb'):
    model_lib.load(str(tmp_path / 'nope'))
