"""AnomaliesGate's reading and formatting of ExampleValidator output."""

import pytest
from tensorflow_metadata.proto.v0 import anomalies_pb2

from components import anomalies_gate


def _anomalies():
  anomalies = anomalies_pb2.Anomalies()
  info = anomalies.anomaly_info['payment_type']
  info.description = 'Examples contain values missing from the schema: Bitcoin (~50%).'
  reason = info.reason.add()
  reason.type = anomalies_pb2.AnomalyInfo.ENUM_TYPE_UNEXPECTED_STRING_VALUES
  reason.description = 'Examples contain values missing from the schema: Bitcoin (~50%).'
  dropped = anomalies.anomaly_info['company'].reason.add()
  dropped.type = anomalies_pb2.AnomalyInfo.SCHEMA_MISSING_COLUMN
  dropped.description = 'Column is completely missing'
  return anomalies


def test_rows_name_split_feature_kind_description():
  rows = anomalies_gate.describe_anomalies('train', _anomalies())
  assert rows == [
      ('train', 'company', 'SCHEMA_MISSING_COLUMN', 'Column is completely missing'),
      ('train', 'payment_type', 'ENUM_TYPE_UNEXPECTED_STRING_VALUES',
       'Examples contain values missing from the schema: Bitcoin (~50%).'),
  ]


def test_no_anomalies_no_rows():
  assert anomalies_gate.describe_anomalies('eval', anomalies_pb2.Anomalies()) == []


def test_message_lists_each_anomaly():
  message = anomalies_gate.format_anomalies(
      anomalies_gate.describe_anomalies('eval', _anomalies()))
  assert message.startswith('data validation found 2 anomalies')
  assert '[eval] company: SCHEMA_MISSING_COLUMN: Column is completely missing' in message


def test_reads_what_example_validator_writes(tmp_path):
  (tmp_path / 'SchemaDiff.pb').write_bytes(_anomalies().SerializeToString())
  assert anomalies_gate.read_anomalies(str(tmp_path)) == _anomalies()


def test_missing_file_is_an_error(tmp_path):
  with pytest.raises(Exception, match='SchemaDiff.pb'):
    anomalies_gate.read_anomalies(str(tmp_path))


def test_a_long_list_of_unseen_values_is_counted_and_cut():
  values = ', '.join(f'Cab {i} (<1%)' for i in range(3000))
  description = f'Examples contain values missing from the schema: {values}.'
  message = anomalies_gate.format_anomalies([('train', 'company',
                                              'ENUM_TYPE_UNEXPECTED_STRING_VALUES', description)])
  assert ('company: ENUM_TYPE_UNEXPECTED_STRING_VALUES: Examples contain values missing from the '
          'schema: 3000 values, e.g. Cab 0 (<1%), Cab 1 (<1%), Cab 2 (<1%), Cab 3 (<1%), '
          'Cab 4 (<1%), ... (all of them in the run report)') in message
  assert 'Cab 5 ' not in message
  short = 'Examples contain values missing from the schema: Bitcoin (~50%).'
  assert anomalies_gate.shorten_description(short) == short
