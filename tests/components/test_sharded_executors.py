"""components/sharded_executors.py: ExampleGen and Transform leave num_shards files per split."""

import glob
import os

import apache_beam as beam
import pytest
import tensorflow as tf
from tfx import v1 as tfx
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from components import sharded_executors
from pipeline import config as pipeline_config
from pipeline import pipeline as pipeline_lib
from tests.conftest import read_taxi_rows, write_csv


def _write_records(directory, name, counts):
  """One GZIP TFRecord file per count, named like Beam's shards; returns every record."""
  os.makedirs(directory, exist_ok=True)
  records = []
  for index, count in enumerate(counts):
    path = os.path.join(directory, f'{name}-{index:05d}-of-{len(counts):05d}.gz')
    with tf.io.TFRecordWriter(path, options='GZIP') as writer:
      for row in range(count):
        record = f'{name}-{index}-{row}'.encode()
        writer.write(record)
        records.append(record)
  return records


def _read_split(split_dir):
  files = sorted(glob.glob(os.path.join(split_dir, '*')))
  counts = [sum(1 for _ in tf.data.TFRecordDataset(path, 'GZIP')) for path in files]
  records = [r.numpy() for r in tf.data.TFRecordDataset(files, 'GZIP')] if files else []
  return files, counts, records


def test_reshard_rewrites_short_splits_and_keeps_every_record(tmp_path):
  artifact = standard_artifacts.Examples()
  artifact.uri = str(tmp_path)
  artifact.split_names = '["train", "eval"]'
  train = _write_records(str(tmp_path / 'Split-train'), 'data_tfrecord', [50])
  eval_ = _write_records(str(tmp_path / 'Split-eval'), 'data_tfrecord', [10] * 5)

  sharded_executors.reshard_examples([artifact], 4, beam.Pipeline)

  files, counts, records = _read_split(tmp_path / 'Split-train')
  assert [os.path.basename(path) for path in files] == [
      f'data_tfrecord-0000{i}-of-00004.gz' for i in range(4)]
  assert sorted(records) == sorted(train)
  assert max(counts) - min(counts) <= 1  # Shared out evenly.
  # Five files already meet four: left as they were.
  files, counts, records = _read_split(tmp_path / 'Split-eval')
  assert counts == [10] * 5 and records == eval_
  assert sorted(os.listdir(tmp_path)) == ['Split-eval', 'Split-train']  # No staging left.


def test_shard_count_travels_in_custom_config():
  example_gen_json = proto_utils.proto_to_json(sharded_executors.example_gen_custom_config(12))
  assert sharded_executors.example_gen_num_shards({'custom_config': example_gen_json}) == 12
  assert sharded_executors.transform_num_shards(
      {'custom_config': '{"num_shards": 5}'}) == 5
  assert sharded_executors.example_gen_num_shards({}) == sharded_executors.DEFAULT_NUM_SHARDS
  assert sharded_executors.transform_num_shards(
      {'custom_config': 'null'}) == sharded_executors.DEFAULT_NUM_SHARDS


@pytest.mark.parametrize('value', [0, -3, 2.5, '8', True])
def test_bad_shard_counts_are_rejected_with_the_value(value):
  with pytest.raises(ValueError, match=f'num_shards must be a whole number >= 1, got {value!r}'):
    sharded_executors.transform_custom_config(value)


def _pipeline_components(tmp_path):
  config = pipeline_config.LocalConfig(pipeline_home=tmp_path)
  pipeline = pipeline_lib.create_pipeline(
      pipeline_name='p', pipeline_root=str(tmp_path), data_root=str(tmp_path),
      schema_path=pipeline_config.SCHEMA_PATH, serving_model_dir=str(tmp_path),
      train_steps=1, eval_steps=1, train_config=config.train_config,
      eval_accuracy_threshold=0.5)
  return {component.id: component for component in pipeline.components}, config.train_config


def test_pipeline_transform_writes_num_shards(tmp_path):
  components, train_config = _pipeline_components(tmp_path)
  transform = components['Transform']
  assert transform.executor_spec.executor_class is sharded_executors.ShardedTransformExecutor
  assert sharded_executors.transform_num_shards(
      transform.exec_properties) == train_config.num_shards


def test_pipeline_example_gen_writes_num_shards(tmp_path):
  components, train_config = _pipeline_components(tmp_path)
  example_gen = components['CsvExampleGen']
  assert example_gen.executor_spec.executor_class is (
      sharded_executors.ShardedCsvExampleGenExecutor), (
          'CsvExampleGen should be sharded_executors.ShardedCsvExampleGen (pipeline/sources.py)')
  assert sharded_executors.example_gen_num_shards(
      example_gen.exec_properties) == train_config.num_shards


@pytest.mark.timeout(600)
def test_example_gen_and_transform_write_num_shards_per_split(tmp_path):
  """ExampleGen -> Transform wired like pipeline.py (and an ImportExampleGen), run with
  LocalDagRunner."""
  header, rows = read_taxi_rows()
  write_csv(tmp_path / 'data' / 'data.csv', header, rows[:300])
  example_gen = sharded_executors.ShardedCsvExampleGen(
      input_base=str(tmp_path / 'data'),
      output_config=pipeline_lib.example_gen_output_config(),
      custom_config=sharded_executors.example_gen_custom_config(3)).with_id('CsvExampleGen')
  schema_gen = tfx.components.ImportSchemaGen(schema_file=pipeline_config.SCHEMA_PATH)
  transform = sharded_executors.ShardedTransform(
      examples=example_gen.outputs['examples'], schema=schema_gen.outputs['schema'],
      preprocessing_fn=pipeline_lib.PREPROCESSING_FN,
      custom_config=sharded_executors.transform_custom_config(5),
      disable_statistics=True).with_id('Transform')
  # ImportExampleGen's variant, on tf.Examples already in TFRecords.
  (tmp_path / 'tfrecords').mkdir()
  with tf.io.TFRecordWriter(str(tmp_path / 'tfrecords' / 'examples.gz'), 'GZIP') as writer:
    for index in range(40):
      writer.write(tf.train.Example(features=tf.train.Features(feature={'x': tf.train.Feature(
          int64_list=tf.train.Int64List(value=[index]))})).SerializeToString())
  import_example_gen = sharded_executors.ShardedImportExampleGen(
      input_base=str(tmp_path / 'tfrecords'),
      custom_config=sharded_executors.example_gen_custom_config(4)).with_id('ImportExampleGen')
  tfx.orchestration.LocalDagRunner().run(tfx.dsl.Pipeline(
      pipeline_name='shards', pipeline_root=str(tmp_path / 'root'),
      components=[example_gen, schema_gen, transform, import_example_gen],
      metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
          str(tmp_path / 'metadata.sqlite')),
      beam_pipeline_args=list(pipeline_config.LOCAL_BEAM_ARGS)))

  total = 0
  for split in ('train', 'eval'):
    [split_dir] = glob.glob(str(tmp_path / 'root' / 'CsvExampleGen' / 'examples' / '*' /
                                f'Split-{split}'))
    files, counts, _ = _read_split(split_dir)
    assert [os.path.basename(path) for path in files] == [
        f'data_tfrecord-0000{i}-of-00003.gz' for i in range(3)]
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
    assert len(files) == 4
    imported += sum(counts)
  assert imported == 40
