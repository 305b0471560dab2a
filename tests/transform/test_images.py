"""transform/images.py: the image kind's preprocessing passes the encoded bytes through
unchanged and maps the class name to its index; it never decodes."""

import glob
import os
import tempfile

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
import tensorflow_transform.beam as tft_beam
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tensorflow_transform.tf_metadata import dataset_metadata
from tfx import v1 as tfx

import datadefs
from components import sharded_executors
from core import example_files
from core.beam_args import LOCAL_BEAM_ARGS
from core.example_files import ExampleFilesConfig
from datadefs.images import digits
from datadefs.images import spec
from pipeline import graph
from pipeline import sources
from tests import image_folders
from transform.preprocessing import preprocessing_fn

DIGITS = datadefs.load('digits')


def _transform(rows, dataset):
  schema = tfdv.load_schema_text(dataset.schema_path)
  metadata = dataset_metadata.DatasetMetadata(schema)
  config = dataset.to_custom_config()
  with tempfile.TemporaryDirectory() as temp_dir, tft_beam.Context(temp_dir=temp_dir):
    (transformed, _), _ = ((rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
        lambda inputs: preprocessing_fn(inputs, config)))
  return transformed


def _raw(seed, label, kind='png'):
  data = image_folders.encoded(seed, kind)
  return {spec.RAW_IMAGE: np.array([data], dtype=object),
          spec.RAW_FORMAT: np.array([kind.encode()], dtype=object),
          spec.RAW_HEIGHT: np.array([12]), spec.RAW_WIDTH: np.array([16]),
          spec.RAW_LABEL: np.array([label.encode()], dtype=object),
          spec.RAW_CONTENT_HASH: np.array([b'0' * 64], dtype=object)}


def test_bytes_pass_through_unchanged_and_the_label_is_the_class_index():
  rows = [_raw(1, 'three'), _raw(2, 'zero', 'jpeg'), _raw(3, 'nine', 'gif')]
  transformed = _transform(rows, DIGITS)
  assert [set(row) for row in transformed] == [{spec.IMAGE_FEATURE, DIGITS.label_key}] * 3
  assert DIGITS.label_key == spec.LABEL_FEATURE
  for raw, row in zip(rows, transformed):
    assert np.asarray(row[spec.IMAGE_FEATURE]).ravel()[0] == raw[spec.RAW_IMAGE][0]
  assert [int(np.asarray(row[spec.LABEL_FEATURE]).ravel()[0]) for row in transformed] == [
      3, 0, 9]


def test_the_image_preprocessing_has_no_decode_op():
  with tf.Graph().as_default() as graph_:
    inputs = {spec.RAW_IMAGE: tf.compat.v1.placeholder(tf.string, [None, 1]),
              spec.RAW_LABEL: tf.compat.v1.placeholder(tf.string, [None, 1])}
    preprocessing_fn(inputs, DIGITS.to_custom_config())
  assert not [op.type for op in graph_.get_operations() if 'Decode' in op.type]


@pytest.mark.integration  # A LocalDagRunner run of ExampleGen, StatisticsGen and Transform.
@pytest.mark.timeout(600)
def test_digits_through_example_gen_statistics_and_transform(tmp_path):
  """The digits images (a few per class) through the pipeline's own ExampleGen, StatisticsGen,
  schema and validator, and Transform: every image arrives in the transformed examples with
  its bytes unchanged and its class index."""
  data = tmp_path / 'data'
  digits.write_digits(data)
  for folder in data.iterdir():  # 12 images per class keeps the run short.
    for path in sorted(folder.iterdir())[12:]:
      path.unlink()
  files = ExampleFilesConfig(num_shards=2)
  example_gen = sources.example_gen('folder', str(data), None, None,
                                    graph.example_gen_output_config(), files, DIGITS)
  statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs['examples'])
  schema_gen = tfx.components.ImportSchemaGen(schema_file=DIGITS.schema_path)
  validator = tfx.components.ExampleValidator(statistics=statistics_gen.outputs['statistics'],
                                              schema=schema_gen.outputs['schema'])
  transform = sharded_executors.ShardedTransform(
      examples=example_gen.outputs['examples'], schema=schema_gen.outputs['schema'],
      preprocessing_fn=graph.PREPROCESSING_FN, disable_statistics=True,
      custom_config={**sharded_executors.transform_custom_config(files),
                     **DIGITS.to_custom_config()}).with_id('Transform')
  tfx.orchestration.LocalDagRunner().run(tfx.dsl.Pipeline(
      pipeline_name='images', pipeline_root=str(tmp_path / 'root'),
      components=[example_gen, statistics_gen, schema_gen, validator, transform],
      metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
          str(tmp_path / 'metadata.sqlite')),
      beam_pipeline_args=list(LOCAL_BEAM_ARGS)))

  originals = {path.read_bytes(): path.parent.name for path in data.glob('*/*')}
  seen = {}
  for path in glob.glob(str(tmp_path / 'root' / 'Transform' / 'transformed_examples' / '*' /
                            'Split-*' / '*')):
    for record in tf.data.TFRecordDataset(path, example_files.tf_compression_type(path)):
      features = tf.train.Example.FromString(record.numpy()).features.feature
      image = features[spec.IMAGE_FEATURE].bytes_list.value[0]
      seen[image] = int(features[spec.LABEL_FEATURE].int64_list.value[0])
  assert len(seen) == len(originals) == 120
  assert {image: DIGITS.label.classes[index] for image, index in seen.items()} == originals
  [anomalies] = glob.glob(str(tmp_path / 'root' / 'ExampleValidator' / 'anomalies' / '*' /
                              'Split-train' / '*'))
  with open(anomalies, 'rb') as f:
    assert not anomalies_pb2.Anomalies.FromString(f.read()).anomaly_info
