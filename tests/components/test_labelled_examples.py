"""components/labelled_examples.py: imported tf.Examples (DATA_SOURCE=tfrecord) without a
label are left out after the ImportExampleGen, and counted, as the CSV reader does."""

import glob
import json
import os

import tensorflow as tf
from tfx.dsl.components.base import base_beam_executor
from tfx.types import standard_artifacts

from components import sharded_executors
from core import data_quality
from core import example_files
from core.beam_args import LOCAL_BEAM_ARGS
from core.example_files import ExampleFilesConfig


def _example(row_id, fare, company):
  feature = {'id': tf.train.Feature(int64_list=tf.train.Int64List(value=[row_id])),
             'fare': tf.train.Feature(float_list=tf.train.FloatList(
                 value=[] if fare is None else [fare]))}
  if company is not None:  # else absent: missing too
    feature['company'] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[company]))
  return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def test_imported_examples_without_a_label_are_left_out_and_counted(tmp_path):
  data = tmp_path / 'data'
  data.mkdir()
  rows = [(i, None if i % 5 == 0 else i + 0.5, None if i % 2 else b'Cab') for i in range(40)]
  with tf.io.TFRecordWriter(str(data / 'part.gz'), options='GZIP') as writer:
    for row in rows:
      writer.write(_example(*row))
  artifact = standard_artifacts.Examples()
  artifact.uri = str(tmp_path / 'out')
  component = sharded_executors.ShardedImportExampleGen(
      input_base=str(data), custom_config=sharded_executors.example_gen_custom_config(
          ExampleFilesConfig(num_shards=2), ['fare'], ['id', 'fare', 'company']))
  executor = sharded_executors.ShardedImportExampleGenExecutor(
      base_beam_executor.BaseBeamExecutor.Context(beam_pipeline_args=list(LOCAL_BEAM_ARGS),
                                                  tmp_dir=str(tmp_path / 'tmp')))
  executor.Do({}, {'examples': [artifact]}, {key: value for key, value in
                                             component.exec_properties.items()
                                             if value is not None})
  kept, files = {}, {}
  for split in ('train', 'eval'):
    files[split] = sorted(glob.glob(os.path.join(artifact.uri, f'Split-{split}', '*')))
    kept[split] = [tf.train.Example.FromString(record.numpy()).features.feature['id']
                   .int64_list.value[0] for path in files[split] for record in
                   tf.data.TFRecordDataset(path, example_files.tf_compression_type(path))]
  assert sorted(kept['train'] + kept['eval']) == [i for i, fare, _ in rows if fare is not None]
  assert [len(found) for found in files.values()] == [2, 2]  # the layout asked for
  quality = json.loads(artifact.get_string_custom_property(data_quality.PROPERTY))
  summary = data_quality.run_summary(quality)
  assert summary['rows'] == 40 and summary['rows_without_label'] == 8
  assert summary['missing_share'] == {'company': 0.5, 'fare': 0.2, 'id': 0.0}
  for split, counts in quality['splits'].items():
    assert counts['rows'] - counts['rows_without_label'] == len(kept[split])
  assert not os.path.exists(os.path.join(artifact.uri, '.labelled'))
