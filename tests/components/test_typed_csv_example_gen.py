"""components/typed_csv_example_gen: CSV shapes read as a standard CSV reader reads them, typed
as declared, split and laid out like the sharded CsvExampleGen; bad input named by file."""

import glob
import gzip
import os

import apache_beam as beam
import pyarrow as pa
from apache_beam.testing import util as beam_testing
import pytest
import tensorflow as tf
from tfx import v1 as tfx
from tfx.components.example_gen import base_example_gen_executor
from tfx.components.example_gen.csv_example_gen import executor as csv_executor
from tfx.dsl.components.base import base_beam_executor
from tfx.orchestration import metadata
from tfx.types import standard_artifacts

from core import example_files
from components import sharded_executors
from core.example_files import ExampleFilesConfig
from components.typed_csv_example_gen import ColumnTypesError
from components.typed_csv_example_gen import CsvInputError
from components.typed_csv_example_gen import TypedCsvExampleGen
from components.typed_csv_example_gen import TypedCsvExampleGenExecutor
from components.typed_csv_example_gen import column_types_of
from components.typed_csv_example_gen import config as typed_config
from datadefs.tabular import examples as encoding
from components.typed_csv_example_gen import executor as typed_executor
from core.beam_args import LOCAL_BEAM_ARGS
from tests import taxi
from tests.conftest import read_taxi_rows, write_csv

TYPES = {'id': 'int', 'fare': 'float', 'company': 'string'}
LAYOUT = ExampleFilesConfig(num_shards=3, compression='none')
IN_MEMORY = list(LOCAL_BEAM_ARGS)


def _write(root, name, content):
  path = root / name
  path.parent.mkdir(parents=True, exist_ok=True)
  data = content.encode('utf-8') if isinstance(content, str) else content
  path.write_bytes(gzip.compress(data) if name.endswith('.gz') else data)
  return path


def _component(root, column_types=TYPES, layout=LAYOUT, **kwargs):
  return TypedCsvExampleGen(
      input_base=str(root), column_types=column_types,
      custom_config=sharded_executors.example_gen_custom_config(layout), **kwargs)


def _run(tmp_path, root, beam_args=IN_MEMORY, **kwargs):
  """Runs the executor's Do as the launcher would (exec_properties are already JSON); returns
  the artifact and {split: [tf.Example]}."""
  artifact = standard_artifacts.Examples()
  artifact.uri = str(tmp_path / 'out')
  executor = TypedCsvExampleGenExecutor(base_beam_executor.BaseBeamExecutor.Context(
      beam_pipeline_args=beam_args, tmp_dir=str(tmp_path / 'tmp')))
  properties = {key: value for key, value in _component(root, **kwargs).exec_properties.items()
                if value is not None}
  executor.Do({}, {'examples': [artifact]}, properties)
  return artifact, {split: [tf.train.Example.FromString(record) for record in _records(
      artifact.uri, split)] for split in ('train', 'eval')}


def _records(uri, split):
  return [record.numpy() for path in sorted(glob.glob(os.path.join(uri, f'Split-{split}', '*')))
          for record in tf.data.TFRecordDataset(path, example_files.tf_compression_type(path))]


def _rows(examples):
  """{id: {feature: (kind, values)}} over both splits; fails on a row seen twice."""
  rows = {}
  for example in examples['train'] + examples['eval']:
    features_ = {name: (feature.WhichOneof('kind'), list(getattr(feature, feature.WhichOneof(
        'kind')).value)) for name, feature in example.features.feature.items()}
    row_id = features_['id'][1][0]
    assert row_id not in rows, f'row {row_id} written twice'
    rows[row_id] = features_
  return rows


def _example(row, types=TYPES):
  """The tf.Example CsvExampleGen builds for `row` ({column: value or None}), serialized."""
  lists = {'int': lambda v: {'int64_list': tf.train.Int64List(value=v)},
           'float': lambda v: {'float_list': tf.train.FloatList(value=v)},
           'string': lambda v: {'bytes_list': tf.train.BytesList(value=[x.encode() for x in v])}}
  return tf.train.Example(features=tf.train.Features(feature={
      name: tf.train.Feature(**lists[kind]([] if row[name] is None else [row[name]]))
      for name, kind in types.items()})).SerializeToString(deterministic=True)


def _file_names(artifact, split):
  return sorted(os.path.basename(p) for p in glob.glob(f'{artifact.uri}/Split-{split}/*'))


def test_gzip_csv_is_read_with_declared_types(tmp_path):
  _write(tmp_path / 'data', 'a.csv.gz', 'id,fare,company\n1,12.5,Flash Cab\n2,7,Blue\n')
  _write(tmp_path / 'data', 'b.csv.gz', '\ufeffid,fare,company\r\n3,1,"x, y"\r\n')
  rows = _rows(_run(tmp_path, tmp_path / 'data')[1])
  assert rows[3]['company'] == ('bytes_list', [b'x, y'])
  assert rows[1] == {'id': ('int64_list', [1]), 'fare': ('float_list', [12.5]),
                     'company': ('bytes_list', [b'Flash Cab'])}
  assert rows[2]['fare'] == ('float_list', [7.0])


def test_byte_order_mark_is_skipped(tmp_path):
  _write(tmp_path / 'data', 'a.csv', '\ufeffid,fare,company\n1,1.5,\u00c9toile\n')
  rows = _rows(_run(tmp_path, tmp_path / 'data')[1])
  assert rows[1]['company'] == ('bytes_list', ['\u00c9toile'.encode('utf-8')])


def test_files_with_reordered_columns_are_matched_by_name(tmp_path):
  _write(tmp_path / 'data', 'a.csv', 'id,fare,company\n1,1.5,A\n')
  _write(tmp_path / 'data', 'b.csv', 'company,id,fare\nB,2,2.5\n')
  _write(tmp_path / 'data', 'c.csv', 'fare,company,id\n')  # Header only: no rows, no error.
  rows = _rows(_run(tmp_path, tmp_path / 'data')[1])
  assert sorted(rows) == [1, 2]
  assert rows[2] == {'id': ('int64_list', [2]), 'fare': ('float_list', [2.5]),
                     'company': ('bytes_list', [b'B'])}
  assert rows[1]['company'] == ('bytes_list', [b'A'])


def test_quoted_fields_with_commas_quotes_and_newlines_and_crlf(tmp_path):
  _write(tmp_path / 'data', 'a.csv', 'id,fare,company\r\n1,2.5,"Taxi, Inc. ""Best"""\r\n'
         '2,3.5,"two\r\nlines"\r\n3,"4.5",plain\r\n')
  rows = _rows(_run(tmp_path, tmp_path / 'data')[1])
  assert rows[1]['company'] == ('bytes_list', [b'Taxi, Inc. "Best"'])
  assert rows[2]['company'] == ('bytes_list', [b'two\r\nlines'])
  assert rows[3] == {'id': ('int64_list', [3]), 'fare': ('float_list', [4.5]),
                     'company': ('bytes_list', [b'plain'])}


def test_float_column_of_whole_numbers_stays_float(tmp_path):
  """CsvExampleGen would infer INT here, which the curated schema refuses."""
  _write(tmp_path / 'data', 'a.csv', 'id,fare,company\n' + ''.join(
      f'{i},0,x\n' for i in range(20)))
  rows = _rows(_run(tmp_path, tmp_path / 'data')[1])
  assert [row['fare'] for row in rows.values()] == [('float_list', [0.0])] * 20


def test_empty_cells_are_missing_values(tmp_path):
  _write(tmp_path / 'data', 'a.csv', 'id,fare,company\n1,,""\n2,3.5,\n')
  rows = _rows(_run(tmp_path, tmp_path / 'data')[1])
  # As CsvExampleGen writes them: the feature with an empty list of its type.
  assert rows[1]['fare'] == ('float_list', []) and rows[1]['company'] == ('bytes_list', [])
  assert rows[2]['company'] == ('bytes_list', [])


def test_serialization_is_protobufs_deterministic_one_on_edge_values():
  types = {'zeta': 'int', 'a': 'float', '\u00e9' + 'k' * 150: 'string', 'B': 'string'}
  batch = pa.RecordBatch.from_pydict({
      'zeta': pa.array([-5, None, 2**63 - 1, -2**63, 127, 128], pa.int64()),
      'a': pa.array([-0.0, 1e-40, None, 0.1, 3.4e38, 2.5], pa.float32()),
      '\u00e9' + 'k' * 150: pa.array(['', None, '\u00e9' * 200, 'x' * 20000, 'a,b', 'q"q']),
      'B': pa.array([None] * 6, pa.string())})
  assert encoding.serialize_examples(batch, types) == [
      _example(row, types) for row in batch.to_pylist()]


def test_layout_split_and_bytes_match_tfx(tmp_path):
  """Every row once; the configured shards and compression; 2:1 hash split decided by TFX's
  own _PartitionFn over tf.Example's deterministic serialization."""
  _write(tmp_path / 'data', 'a.csv', 'id,fare,company\n' + ''.join(
      f'{i},{i / 4},c{i % 7}\n' for i in range(300)))
  artifact, examples = _run(tmp_path, tmp_path / 'data')
  assert sorted(_rows(examples)) == list(range(300))
  assert 70 <= len(examples['eval']) <= 130, len(examples['eval'])
  buckets = [2, 3]
  config = tfx.proto.SplitConfig()
  for index, split in enumerate(('train', 'eval')):
    assert _file_names(artifact, split) == [
        f'data_tfrecord-0000{i}-of-00003.tfrecord' for i in range(3)]
    for record, example in zip(_records(artifact.uri, split), examples[split]):
      assert record == example.SerializeToString(deterministic=True)
      assert base_example_gen_executor._PartitionFn(  # pylint: disable=protected-access
          example, 2, buckets, config) == index
  assert artifact.get_string_custom_property('compression') == 'none'
  assert artifact.split_names == '["train", "eval"]'


def test_taxi_rows_give_the_examples_and_splits_of_tfx_csv_example_gen(tmp_path):
  """On the whole sample, where CsvExampleGen infers the declared types (on a slice it may not:
  a float column of whole numbers becomes INT), every example and its split are the same."""
  header, rows = read_taxi_rows()
  write_csv(tmp_path / 'data' / 'data.csv', header, rows)
  artifact, typed = _run(tmp_path, tmp_path / 'data', layout=ExampleFilesConfig(),
                         column_types=taxi.TAXI.column_types)
  for split in ('train', 'eval'):  # The default layout: 8 GZIP shards.
    assert _file_names(artifact, split) == [f'data_tfrecord-0000{i}-of-00008.gz' for i in range(8)]
  stock = standard_artifacts.Examples()
  stock.uri = str(tmp_path / 'stock')
  properties = dict(_component(tmp_path / 'data').exec_properties)
  del properties['custom_config']
  csv_executor.Executor(base_beam_executor.BaseBeamExecutor.Context(
      beam_pipeline_args=IN_MEMORY)).Do({}, {'examples': [stock]}, properties)
  for split in ('train', 'eval'):
    expected = sorted(tf.train.Example.FromString(r).SerializeToString(deterministic=True)
                      for r in _records(stock.uri, split))
    assert sorted(e.SerializeToString(deterministic=True) for e in typed[split]) == expected


def test_input_splits_and_partition_feature_split_like_example_gen(tmp_path):
  _write(tmp_path / 'data', 'train/a.csv', 'id,fare,company\n1,1.5,A\n2,2.5,B\n')
  _write(tmp_path / 'data', 'eval/a.csv', 'id,fare,company\n3,3.5,C\n')
  _, examples = _run(tmp_path, tmp_path / 'data', input_config=tfx.proto.Input(splits=[
      tfx.proto.Input.Split(name='train', pattern='train/*'),
      tfx.proto.Input.Split(name='eval', pattern='eval/*')]))
  assert [sorted(_rows({'train': examples[s], 'eval': []})) for s in ('train', 'eval')] == [
      [1, 2], [3]]
  _write(tmp_path / 'flat', 'a.csv', 'id,fare,company\n' + ''.join(
      f'{i},1,c{i % 5}\n' for i in range(60)))
  _, examples = _run(tmp_path / 'second', tmp_path / 'flat', output_config=tfx.proto.Output(
      split_config=tfx.proto.SplitConfig(splits=[
          tfx.proto.SplitConfig.Split(name='train', hash_buckets=2),
          tfx.proto.SplitConfig.Split(name='eval', hash_buckets=1)],
          partition_feature_name='company')))
  companies = [{e.features.feature['company'].bytes_list.value[0] for e in examples[split]}
               for split in ('train', 'eval')]
  assert not companies[0] & companies[1] and len(companies[0] | companies[1]) == 5


def test_per_example_transform_of_the_base_class_contract(tmp_path):
  """GetInputSourceToExamplePTransform's PTransform, for callers of GenerateExamplesByBeam."""
  _write(tmp_path / 'data', 'a.csv', 'id,fare,company\n1,1.5,A\n2,,B\n')
  with beam.Pipeline() as pipeline:
    examples = pipeline | typed_executor.TypedCsvToExample(
        {'input_base': str(tmp_path / 'data')}, '*.csv', column_types=TYPES)
    beam_testing.assert_that(examples, beam_testing.equal_to([
        _example({'id': 1, 'fare': 1.5, 'company': 'A'}),
        _example({'id': 2, 'fare': None, 'company': 'B'})]))


BAD_INPUTS = {
    'missing column': ('id,fare\n1,2.5\n', r"a\.csv: missing column\(s\) \['company'\]"),
    'extra column': ('id,fare,company,tip\n1,2.5,A,0\n',
                     r"a\.csv: unexpected column\(s\) \['tip'\] that the dataset does not"),
    'text in a number': ('id,fare,company\n1,2.5,A\n2,twelve dollars,B\n',
                         r"a\.csv: line 3: column 'fare': 'twelve dollars' is not a number"),
    'float in an int': ('id,fare,company\n1.0,2.5,A\n',
                        r"a\.csv: line 2: column 'id': '1\.0' is not a whole number"),
    'short row': ('id,fare,company\n1,2.5,A\n2,3.5\n',
                  r'a\.csv: line 3: malformed row: 2 fields, the header has 3'),
    'unclosed quote': ('id,fare,company\n1,2.5,"A\n2,3.5,B\n',  # Swallows line 3.
                       r'a\.csv: an unbalanced quote: the field quoted at line 2 is never closed'),
    'quote in unquoted field': ('id,fare,company\n1,2.5,A\n2,3.5,B"\n',
                                r'a\.csv: an unbalanced quote: the field quoted at line 3'),
    'not utf-8': (b'id,fare,company\n1,2.5,A\n2,3.5,\xe9t\xe9\n',
                  r'a\.csv: line 3: not UTF-8 text \(byte 0xe9'),
    'not utf-8 number': (b'id,fare,company\n1,2\xff,A\n', r'a\.csv: line 2: not UTF-8 text'),
    'nan': ('id,fare,company\n1,2.5,A\n2,NaN,B\n',
            r"a\.csv: line 3: column 'fare': 'NaN' is not a finite number \(NaN, infinity"),
    'empty file': ('', r'a\.csv: the file is empty'),
}


@pytest.mark.parametrize('case', sorted(BAD_INPUTS))
def test_bad_input_is_refused_naming_the_file(tmp_path, case):
  content, message = BAD_INPUTS[case]
  _write(tmp_path / 'data', '0_good.csv', 'id,fare,company\n7,1.5,A\n')
  _write(tmp_path / 'data', 'a.csv', content)
  with pytest.raises(CsvInputError, match=str(tmp_path / 'data') + '/' + message):
    _run(tmp_path, tmp_path / 'data')


@pytest.mark.integration  # Beam starts 2 worker processes that import TensorFlow.
def test_worker_process_errors_arrive_as_the_same_message(tmp_path):
  _write(tmp_path / 'data', 'a.csv', 'id,fare,company\n1,2.5,A\n2,x,B\n')
  with pytest.raises(CsvInputError) as error:
    _run(tmp_path, tmp_path / 'data', beam_args=[
        '--direct_running_mode=multi_processing', '--direct_num_workers=2'])
  assert str(error.value) == (f"{tmp_path}/data/a.csv: line 3: column 'fare': 'x' is not a "
                              'number (declared "float"); fix the file, or its column '
                              'declaration')


def test_no_matching_files_and_misnamed_gzip_are_named(tmp_path):
  (tmp_path / 'data').mkdir()
  with pytest.raises(CsvInputError, match=r'no files match .*data/\*'):
    _run(tmp_path, tmp_path / 'data')
  (tmp_path / 'data' / 'a.csv').write_bytes(gzip.compress(b'id,fare,company\n'))
  with pytest.raises(CsvInputError, match=r'a\.csv: holds GZIP data but is not named \*\.gz'):
    _run(tmp_path, tmp_path / 'data')


@pytest.mark.parametrize('column_types, message', [
    ({'fare': 'double'}, r"column_types\['fare'\] must be one of \['int', 'float', 'string'\], "
                         r"got 'double'"),
    ({}, 'column_types must be a non-empty mapping'),
    ({'': 'int'}, "every column name must be a non-empty string, got ''"),
])
def test_bad_declarations_are_refused_at_construction(column_types, message):
  with pytest.raises(ColumnTypesError, match=message):
    TypedCsvExampleGen(input_base='/data', column_types=column_types)


@pytest.mark.integration  # A LocalDagRunner run.
def test_span_pattern_reads_the_newest_span_through_the_driver(tmp_path):
  """input_config's {SPAN} is resolved by FileBasedExampleGen's driver, as in the pipeline."""
  _write(tmp_path / 'data', 'span-1/a.csv', 'id,fare,company\n1,1.5,A\n')
  _write(tmp_path / 'data', 'span-2/a.csv.gz', 'company,fare,id\nB,2.5,2\nC,3.5,3\n')
  example_gen = _component(tmp_path / 'data', input_config=tfx.proto.Input(splits=[
      tfx.proto.Input.Split(name='single_split', pattern='span-{SPAN}/*')]))
  store = metadata.sqlite_metadata_connection_config(str(tmp_path / 'mlmd.sqlite'))
  tfx.orchestration.LocalDagRunner().run(tfx.dsl.Pipeline(
      pipeline_name='spans', pipeline_root=str(tmp_path / 'root'), components=[example_gen],
      metadata_connection_config=store, beam_pipeline_args=IN_MEMORY))
  with metadata.Metadata(store) as handle:
    [artifact] = handle.store.get_artifacts_by_type('Examples')
  assert artifact.custom_properties['span'].int_value == 2
  assert artifact.custom_properties['compression'].string_value == 'none'
  ids = [tf.train.Example.FromString(r).features.feature['id'].int64_list.value[0]
         for split in ('train', 'eval') for r in _records(artifact.uri, split)]
  assert sorted(ids) == [2, 3]


def test_vertex_spec_keeps_the_file_based_driver_hook(tmp_path):
  example_gen = _component('gs://bucket/data', input_config=tfx.proto.Input(splits=[
      tfx.proto.Input.Split(name='single_split', pattern='span-{SPAN}/*.csv')]))
  runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
      config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image='img:1'),
      output_dir=str(tmp_path), output_filename='spec.json')
  job = runner.run(tfx.dsl.Pipeline(pipeline_name='p', pipeline_root='gs://bucket/root',
                                    components=[example_gen.with_id('CsvExampleGen')]),
                   write_out=False)
  container = job['pipelineSpec']['deploymentSpec']['executors'][
      'CsvExampleGen_executor']['container']
  assert container['lifecycle']['preCacheCheck']['command'] == [
      'python', '-m', 'tfx.orchestration.kubeflow.v2.file_based_example_gen.driver']
  assert 'components.typed_csv_example_gen.executor.TypedCsvExampleGenExecutor' in (
      container['args'])
  # The declaration and the layout reach the executor in the spec's custom_config.
  custom_config = {'custom_config': job['pipelineSpec']['root']['dag']['tasks']['CsvExampleGen'][
      'inputs']['parameters']['custom_config']['runtimeValue']['constantValue']['stringValue']}
  assert typed_config.column_types_from_exec_properties(custom_config) == TYPES
  assert sharded_executors.example_gen_files_config(custom_config) == LAYOUT


def test_declared_missing_value_texts_read_as_missing(tmp_path):
  from datadefs.tabular import csv_files as reading  # pylint: disable=import-outside-toplevel
  path = tmp_path / 'p.csv'
  path.write_text('species,mass,sex\nAdelie,3750,male\nAdelie,NA,NA\nGentoo,,female\n')
  types = {'species': 'string', 'mass': 'int', 'sex': 'string'}
  [batch] = list(reading.read_batches(str(path), types, missing_values=['NA']))
  assert batch.column('mass').to_pylist() == [3750, None, None]
  assert batch.column('sex').to_pylist() == ['male', None, 'female']
  # Not declared: 'NA' in a number column is an error naming the line and column.
  with pytest.raises(CsvInputError, match="line 3: column 'mass': 'NA' is not a whole number"):
    list(reading.read_batches(str(path), types))
