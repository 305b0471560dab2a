"""components/typed_csv_example_gen: a row without a label is not an example. It is left out
of every split and counted per split, with each column's missing cells; a file without the label
column says it is the label."""

import json
from pathlib import Path

import pytest
import tensorflow as tf

from components.typed_csv_example_gen import ColumnTypesError
from components.typed_csv_example_gen import CsvInputError
from components.typed_csv_example_gen import TypedCsvExampleGen
from components.typed_csv_example_gen import shards
from core import data_quality
from tests.components.test_typed_csv_example_gen import TYPES, _records, _run, _write
from tests.conftest import write_csv


def _quality(artifact):
  return json.loads(artifact.get_string_custom_property(data_quality.PROPERTY))


def test_rows_without_a_label_are_left_out_and_counted_per_split(tmp_path):
  rows = [[str(i), '' if i % 7 == 0 else f'{i}.5', '' if i % 3 == 0 else 'Cab'] for i in range(60)]
  write_csv(tmp_path / 'all' / 'a.csv', ['id', 'fare', 'company'], rows)
  everything, kept_before = _run(tmp_path / 'unlabelled', tmp_path / 'all')
  artifact, examples = _run(tmp_path / 'labelled', tmp_path / 'all', label_column='fare',
                            label_requires=['fare'])
  # A row without a label is no example; every other row is where it was, byte for byte.
  ids = {split: sorted(e.features.feature['id'].int64_list.value[0] for e in found)
         for split, found in examples.items()}
  ids_before = {split: sorted(e.features.feature['id'].int64_list.value[0] for e in found)
                for split, found in kept_before.items()}
  assert ids == {split: [i for i in found if i % 7] for split, found in ids_before.items()}
  assert _records(artifact.uri, 'train') == [
      record for record in _records(everything.uri, 'train')
      if tf.train.Example.FromString(record).features.feature['fare'].float_list.value]
  # Exact counts per split, over every row read (the left-out rows in the split they hash to).
  quality = _quality(artifact)
  assert quality['label_columns'] == ['fare']
  for split, found in ids_before.items():
    assert quality['splits'][split] == {
        'rows': len(found), 'rows_without_label': sum(1 for i in found if i % 7 == 0),
        'missing': {'id': 0, 'fare': sum(1 for i in found if i % 7 == 0),
                    'company': sum(1 for i in found if i % 3 == 0)}}
  # Without a label rule nothing is left out, and still counted.
  assert sum(_quality(everything)['splits'][s]['rows_without_label'] for s in ids_before) == 0
  assert not (Path(artifact.uri) / shards.COUNTS_FILE).exists()


def test_a_file_without_the_label_column_says_it_is_the_label(tmp_path):
  _write(tmp_path / 'data', 'a.csv', 'id,company\n1,A\n')
  with pytest.raises(CsvInputError, match=r"a\.csv: the label column 'fare' is missing"):
    _run(tmp_path, tmp_path / 'data', label_column='fare', label_requires=['fare'])


def test_label_columns_must_be_declared():
  with pytest.raises(ColumnTypesError, match="label column 'tips' is not one of the declared"):
    TypedCsvExampleGen(input_base='/data', column_types=TYPES, label_requires=['tips'])
