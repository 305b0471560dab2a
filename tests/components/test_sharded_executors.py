"""components/sharded_executors.py: ExampleGen and Transform write the configured file layout
(shards per split, compression)."""

import glob
import json
import os

import apache_beam as beam
import pytest
import tensorflow as tf
from tfx import v1 as tfx
from tfx.components.transform import executor as transform_executor
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from core import example_files
from components import sharded_executors
from core.example_files import ExampleFilesConfig
from core.beam_args import LOCAL_BEAM_ARGS
from pipeline import graph
from tests import taxi
from tests.conftest import read_taxi_rows, write_csv


def _write_records(directory, name, counts, suffix='.gz'):
  """One TFRecord file per count, named like Beam's shards (GZIP when the suffix is .gz);
  returns every record."""
  os.makedirs(directory, exist_ok=True)
  records = []
  for index, count in enumerate(counts):
    path = os.path.join(directory, f'{name}-{index:05d}-of-{len(counts):05d}{suffix}')
    with tf.io.TFRecordWriter(path, options=example_files.tf_compression_type(path)) as writer:
      for row in range(count):
        record = f'{name}-{index}-{row}'.encode()
        writer.write(record)
        records.append(record)
  return records


def _read_split(split_dir):
  """(files, records per file, all records), each file read with the compression its name
  says; a file whose content does not match its name fails the read."""
  files = sorted(glob.glob(os.path.join(split_dir, '*')))
  per_file = [[r.numpy() for r in tf.data.TFRecordDataset(
      path, example_files.tf_compression_type(path))] for path in files]
  return files, [len(records) for records in per_file], [r for rs in per_file for r in rs]


def _examples_artifact(uri, splits=('train', 'eval')):
  artifact = standard_artifacts.Examples()
  artifact.uri = str(uri)
  artifact.split_names = '[' + ', '.join(f'"{split}"' for split in splits) + ']'
  return artifact


def test_reshard_rewrites_short_splits_and_keeps_every_record(tmp_path):
  artifact = _examples_artifact(tmp_path)
  train = _write_records(str(tmp_path / 'Split-train'), 'data_tfrecord', [50])
  eval_ = _write_records(str(tmp_path / 'Split-eval'), 'data_tfrecord', [10] * 5)

  sharded_executors.reshard_examples([artifact], ExampleFilesConfig(num_shards=4), beam.Pipeline)

  files, counts, records = _read_split(tmp_path / 'Split-train')
  assert [os.path.basename(path) for path in files] == [
      f'data_tfrecord-0000{i}-of-00004.gz' for i in range(4)]
  assert sorted(records) == sorted(train)
  assert max(counts) - min(counts) <= 1  # Shared out evenly.
  # Five files already meet four: left as they were.
  files, counts, records = _read_split(tmp_path / 'Split-eval')
  assert counts == [10] * 5 and records == eval_
  assert sorted(os.listdir(tmp_path)) == ['Split-eval', 'Split-train']  # No staging left.
  assert artifact.get_string_custom_property('compression') == 'gzip'


def test_compression_none_rewrites_every_split_uncompressed_keeping_its_shard_count(tmp_path):
  artifact = _examples_artifact(tmp_path)
  train = _write_records(str(tmp_path / 'Split-train'), 'transformed_examples', [7] * 6)
  eval_ = _write_records(str(tmp_path / 'Split-eval'), 'transformed_examples', [9])

  sharded_executors.reshard_examples(
      [artifact], ExampleFilesConfig(num_shards=3, compression='none'), beam.Pipeline)

  # Six GZIP files, more than three: still six files, now uncompressed.
  files, _, records = _read_split(tmp_path / 'Split-train')
  assert [os.path.basename(path) for path in files] == [
      f'transformed_examples-0000{i}-of-00006.tfrecord' for i in range(6)]
  assert sorted(records) == sorted(train)
  files, _, records = _read_split(tmp_path / 'Split-eval')
  assert [os.path.basename(path) for path in files] == [
      f'transformed_examples-0000{i}-of-00003.tfrecord' for i in range(3)]
  assert sorted(records) == sorted(eval_)
  # Really uncompressed: the raw bytes hold the records as written.
  with open(files[0], 'rb') as f:
    assert b'transformed_examples-0-' in f.read()
  assert artifact.get_string_custom_property('compression') == 'none'

  # And back to GZIP: the '.tfrecord' files are read uncompressed, written as '.gz'.
  sharded_executors.reshard_examples([artifact], ExampleFilesConfig(num_shards=3), beam.Pipeline)
  files, _, records = _read_split(tmp_path / 'Split-eval')
  assert [os.path.basename(path) for path in files] == [
      f'transformed_examples-0000{i}-of-00003.gz' for i in range(3)]
  assert sorted(records) == sorted(eval_)


def test_file_layout_travels_in_custom_config():
  layout = ExampleFilesConfig(num_shards=12, compression='none')
  example_gen_json = proto_utils.proto_to_json(
      sharded_executors.example_gen_custom_config(layout))
  assert sharded_executors.example_gen_files_config(
      {'custom_config': example_gen_json}) == layout
  assert sharded_executors.transform_files_config(
      {'custom_config': '{"num_shards": 5}'}) == ExampleFilesConfig(num_shards=5)
  assert sharded_executors.example_gen_files_config({}) == ExampleFilesConfig()
  assert sharded_executors.transform_files_config({'custom_config': 'null'}) == (
      ExampleFilesConfig())


@pytest.mark.parametrize('value', [0, -3, 2.5, '8', True])
def test_bad_shard_counts_are_rejected_with_the_value(value):
  with pytest.raises(ValueError, match=f'num_shards must be a whole number >= 1, got {value!r}'):
    ExampleFilesConfig(num_shards=value)
  with pytest.raises(ValueError, match=f'got {value!r}'):
    sharded_executors.transform_files_config({'custom_config': json.dumps({'num_shards': value})})


def test_each_compression_is_spelled_as_beam_and_tf_data_expect():
  types = beam.io.filesystem.CompressionTypes
  assert {name: c.beam_type for name, c in example_files.COMPRESSIONS.items()} == {
      'gzip': types.GZIP, 'none': types.UNCOMPRESSED}
  assert types.detect_compression_type('x' + example_files.COMPRESSIONS['gzip'].suffix) == (
      types.GZIP)
  assert types.detect_compression_type('x' + example_files.COMPRESSIONS['none'].suffix) == (
      types.UNCOMPRESSED)


def test_unknown_compression_is_rejected_with_the_value():
  with pytest.raises(ValueError, match="compression must be one of \\['gzip', 'none'\\], "
                     "got 'zlib'"):
    ExampleFilesConfig(compression='zlib')


class _RecordingExampleGenExecutor:
  """Stands in for a stock ExampleGen executor: writes one GZIP file per split and records the
  exec_properties it was given."""

  def __init__(self):
    self.seen_properties = None

  def Do(self, input_dict, output_dict, exec_properties):  # pylint: disable=invalid-name
    del input_dict
    self.seen_properties = exec_properties
    [artifact] = output_dict['examples']
    for split in ('train', 'eval'):
      _write_records(os.path.join(artifact.uri, f'Split-{split}'), 'data_tfrecord', [12])

  def _make_beam_pipeline(self):
    return beam.Pipeline()


class _ShardedRecordingExecutor(sharded_executors.ShardedExampleGenMixin,
                                _RecordingExampleGenExecutor):
  pass


def test_stock_example_gen_executor_never_sees_the_layout_config(tmp_path):
  """BigQuery's executor passes custom_config to its reader as keyword arguments."""
  artifact = _examples_artifact(tmp_path)
  layout = ExampleFilesConfig(num_shards=2, compression='none')
  executor = _ShardedRecordingExecutor()
  executor.Do({}, {'examples': [artifact]}, {
      'custom_config': proto_utils.proto_to_json(
          sharded_executors.example_gen_custom_config(layout)),
      'output_config': '{}'})
  assert executor.seen_properties == {'output_config': '{}'}
  files, counts, _ = _read_split(tmp_path / 'Split-eval')
  assert [os.path.basename(path) for path in files] == [
      'data_tfrecord-00000-of-00002.tfrecord', 'data_tfrecord-00001-of-00002.tfrecord']
  assert sum(counts) == 12


_LAYOUT = ExampleFilesConfig(num_shards=6, compression='none')


def _pipeline_components(tmp_path):
  pipeline = graph.create_pipeline(taxi.pipeline_settings(
      tmp_path, data_root=str(tmp_path), train_steps=1, eval_steps=1, example_files=_LAYOUT))
  return {component.id: component for component in pipeline.components}


def test_pipeline_transform_writes_the_configured_layout(tmp_path):
  transform = _pipeline_components(tmp_path)['Transform']
  assert transform.executor_spec.executor_class is sharded_executors.ShardedTransformExecutor
  assert sharded_executors.transform_files_config(transform.exec_properties) == _LAYOUT


def test_pipeline_example_gen_writes_the_configured_layout(tmp_path):
  example_gen = _pipeline_components(tmp_path)['CsvExampleGen']
  # The typed CSV reader, which writes the layout itself through the sharded mixin.
  assert issubclass(example_gen.executor_spec.executor_class,
                    sharded_executors.ShardedExampleGenMixin), example_gen.executor_spec
  assert sharded_executors.example_gen_files_config(example_gen.exec_properties) == _LAYOUT


@pytest.mark.integration  # A LocalDagRunner run.
@pytest.mark.timeout(600)
def test_example_gen_and_transform_write_the_configured_layout(tmp_path):
  """ExampleGen -> Transform wired like pipeline.py (and an ImportExampleGen), run with
  LocalDagRunner: ExampleGen writes uncompressed files that Transform reads, Transform and
  ImportExampleGen (from an uncompressed input file) write GZIP."""
  header, rows = read_taxi_rows()
  write_csv(tmp_path / 'data' / 'data.csv', header, rows[:300])
  example_gen = sharded_executors.ShardedCsvExampleGen(
      input_base=str(tmp_path / 'data'),
      output_config=graph.example_gen_output_config(),
      custom_config=sharded_executors.example_gen_custom_config(
          ExampleFilesConfig(num_shards=3, compression='none'))).with_id('CsvExampleGen')
  schema_gen = tfx.components.ImportSchemaGen(schema_file=taxi.TAXI.schema_path)
  transform = sharded_executors.ShardedTransform(
      examples=example_gen.outputs['examples'], schema=schema_gen.outputs['schema'],
      preprocessing_fn=graph.PREPROCESSING_FN,
      custom_config={**sharded_executors.transform_custom_config(ExampleFilesConfig(5)),
                     **taxi.TAXI.to_custom_config()},
      disable_statistics=True).with_id('Transform')
  # ImportExampleGen's variant, on tf.Examples already in TFRecords.
  (tmp_path / 'tfrecords').mkdir()
  with tf.io.TFRecordWriter(str(tmp_path / 'tfrecords' / 'examples.tfrecord')) as writer:
    for index in range(40):
      writer.write(tf.train.Example(features=tf.train.Features(feature={'x': tf.train.Feature(
          int64_list=tf.train.Int64List(value=[index]))})).SerializeToString())
  import_example_gen = sharded_executors.ShardedImportExampleGen(
      input_base=str(tmp_path / 'tfrecords'),
      custom_config=sharded_executors.example_gen_custom_config(
          ExampleFilesConfig(4))).with_id('ImportExampleGen')
  tfx.orchestration.LocalDagRunner().run(tfx.dsl.Pipeline(
      pipeline_name='shards', pipeline_root=str(tmp_path / 'root'),
      components=[example_gen, schema_gen, transform, import_example_gen],
      metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
          str(tmp_path / 'metadata.sqlite')),
      beam_pipeline_args=list(LOCAL_BEAM_ARGS)))

  total = 0
  for split in ('train', 'eval'):
    [split_dir] = glob.glob(str(tmp_path / 'root' / 'CsvExampleGen' / 'examples' / '*' /
                                f'Split-{split}'))
    files, counts, _ = _read_split(split_dir)
    assert [os.path.basename(path) for path in files] == [
        f'data_tfrecord-0000{i}-of-00003.tfrecord' for i in range(3)]
    total += sum(counts)
    [split_dir] = glob.glob(str(tmp_path / 'root' / 'Transform' / 'transformed_examples' /
                                '*' / f'Split-{split}'))
    files, transformed_counts, _ = _read_split(split_dir)
    assert [os.path.basename(path) for path in files] == [
        f'transformed_examples-0000{i}-of-00005.gz' for i in range(5)]
    assert sum(transformed_counts) == sum(counts)
  assert total == 300
  imported = 0
  for split in ('train', 'eval'):
    [split_dir] = glob.glob(str(tmp_path / 'root' / 'ImportExampleGen' / 'examples' / '*' /
                                f'Split-{split}'))
    files, counts, _ = _read_split(split_dir)
    assert len(files) == 4 and all(path.endswith('.gz') for path in files)
    imported += sum(counts)
  assert imported == 40
  # The executors' compression property reached MLMD with the artifacts.
  from tfx.orchestration import metadata  # pylint: disable=import-outside-toplevel
  with metadata.Metadata(metadata.sqlite_metadata_connection_config(
      str(tmp_path / 'metadata.sqlite'))) as store:
    compression = {artifact.uri.split('/root/')[1].split('/')[0]:
                   artifact.custom_properties['compression'].string_value
                   for artifact in store.store.get_artifacts_by_type('Examples')}
  assert compression == {'CsvExampleGen': 'none', 'Transform': 'gzip', 'ImportExampleGen': 'gzip'}
  # The stock processor is back once Transform is done.
  assert transform_executor.TransformProcessor.__name__ == 'TransformProcessor'


@pytest.mark.parametrize('compression,suffix', [('gzip', '.gz'), ('none', '.tfrecord')])
def test_transform_writes_the_layout_in_its_own_write(tmp_path, compression, suffix):
  """Within _transform_writing, Transform's processor writes num_shards files of the configured
  compression itself (no rewrite pass needed), and the stock processor is back after."""
  import pyarrow as pa  # pylint: disable=import-outside-toplevel
  from tensorflow_metadata.proto.v0 import schema_pb2  # pylint: disable=import-outside-toplevel
  schema = schema_pb2.Schema()
  schema.feature.add(name='x', type=schema_pb2.INT)
  batches = [(pa.RecordBatch.from_arrays([pa.array([[i] for i in range(start, start + 10)],
                                                    pa.list_(pa.int64()))], ['x']), {})
             for start in range(0, 50, 10)]
  stock = transform_executor.TransformProcessor
  files = ExampleFilesConfig(num_shards=3, compression=compression)
  with sharded_executors._transform_writing(files):  # pylint: disable=protected-access
    processor = transform_executor.TransformProcessor
    assert processor is not stock
    with beam.Pipeline() as pipeline:
      _ = (pipeline | beam.Create(batches, reshuffle=False)
           | processor._EncodeAndWrite(  # pylint: disable=protected-access
               schema=schema, file_format='tfrecords_gzip',
               output_path=str(tmp_path / 'Split-train' / 'transformed_examples')))
  assert transform_executor.TransformProcessor is stock
  files_written, counts, _ = _read_split(str(tmp_path / 'Split-train'))
  assert [os.path.basename(path) for path in files_written] == [
      f'transformed_examples-0000{i}-of-00003{suffix}' for i in range(3)]
  assert sum(counts) == 50


def test_the_stock_transform_processor_is_back_after_a_failure():
  stock = transform_executor.TransformProcessor
  with pytest.raises(RuntimeError, match='boom'):
    with sharded_executors._transform_writing(ExampleFilesConfig()):  # pylint: disable=protected-access
      raise RuntimeError('boom')
  assert transform_executor.TransformProcessor is stock
