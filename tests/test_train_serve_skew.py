"""Train/serve consistency on the artifacts of a real run (`default_run`).

1. The features Beam's Transform computes for raw rows equal those the serving model computes
   in-graph (its `transform_features` signature) for the same serialized rows.
2. The freshly loaded pushed model predicts exactly what the Trainer's model predicts.
Rows are matched by their serialized bytes (a TFT passthrough column), not by output order.
"""

import base64
import glob
import json
import os
from pathlib import Path
import apache_beam as beam
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tfx_bsl.public import tfxio

pytestmark = pytest.mark.e2e

_RAW_RECORD = 'raw_record'
_TOLERANCE = 1e-6
_NUM_ROWS = 300


def _first_run(pattern: str) -> str:
  """The artifact of `default_run`'s first run: the lowest artifact id (later tests add runs
  on other data to the same pipeline home)."""
  matches = glob.glob(pattern)
  assert matches, f'nothing matches {pattern}'
  return min(matches, key=lambda path: int(Path(path).parts[-1 if path[-1] != '/' else -2]))


@pytest.fixture(scope='module')
def artifacts(default_run):
  root = default_run['home'] / 'pipeline_root'
  examples = _first_run(str(root / 'CsvExampleGen/examples/*'))
  eval_files = sorted(glob.glob(str(Path(examples) / 'Split-eval' / '*.gz')))
  records = [r.numpy() for r in tf.data.TFRecordDataset(eval_files, 'GZIP').take(_NUM_ROWS)]
  return {
      'records': records,
      'transform_graph': _first_run(str(root / 'Transform/transform_graph/*')),
      'trainer_model': str(Path(_first_run(str(root / 'Trainer/model/*'))) / 'Format-Serving'),
      'pushed_model': default_run['first_summary']['pushed_model'],
  }


def _beam_transform(records, transform_graph, temp_dir):
  """Applies the saved transform_fn with TFT on Beam; returns {serialized row: features}."""
  raw_schema = tft.TFTransformOutput(transform_graph).raw_metadata.schema
  source = tfxio.TFExampleBeamRecord(
      physical_format='tfrecord', schema=raw_schema, raw_record_column_name=_RAW_RECORD,
      telemetry_descriptors=['skew_test'])
  output_path = os.path.join(temp_dir, 'transformed')
  with beam.Pipeline() as pipeline, tft_beam.Context(temp_dir=temp_dir,
                                                    passthrough_keys={_RAW_RECORD}):
    raw = pipeline | beam.Create(records) | source.BeamSource()
    transform_fn = pipeline | tft_beam.ReadTransformFn(transform_graph)
    transformed_batches, _ = ((raw, source.TensorAdapterConfig()), transform_fn) | (
        tft_beam.TransformDataset(output_record_batches=True))
    _ = (transformed_batches
         | beam.FlatMap(lambda batch_and_extra: _rows_as_json(batch_and_extra[0]))
         | beam.io.WriteToText(output_path, shard_name_template=''))
  by_record = {}
  with open(output_path) as f:
    for line in f:
      row = json.loads(line)
      by_record[base64.b64decode(row.pop(_RAW_RECORD))] = row
  return by_record


def _rows_as_json(record_batch):
  columns = record_batch.to_pydict()
  raw_records = columns.pop(_RAW_RECORD)
  for i, raw_record in enumerate(raw_records):
    row = {name: values[i] for name, values in columns.items()}
    row[_RAW_RECORD] = base64.b64encode(raw_record[0]).decode()
    yield json.dumps(row)


def test_beam_transform_equals_serving_transform(artifacts, tmp_path):
  beam_features = _beam_transform(artifacts['records'], artifacts['transform_graph'],
                                  str(tmp_path))
  assert set(beam_features) == set(artifacts['records'])

  served = tf.saved_model.load(artifacts['pushed_model'])
  serving_features = served.signatures['transform_features'](
      examples=tf.constant(artifacts['records']))
  assert set(serving_features) == set(next(iter(beam_features.values())))
  for name, tensor in serving_features.items():
    serving_values = tensor.numpy().reshape(len(artifacts['records']))
    beam_values = np.array([np.ravel(beam_features[r][name])[0] for r in artifacts['records']])
    np.testing.assert_allclose(serving_values, beam_values, atol=_TOLERANCE, rtol=0,
                               err_msg=f'feature {name} differs between Beam and serving')


def test_pushed_model_predicts_like_trainer_model(artifacts):
  examples = tf.constant(artifacts['records'])
  pushed = tf.saved_model.load(artifacts['pushed_model'])
  trained = tf.saved_model.load(artifacts['trainer_model'])
  pushed_out = pushed.signatures['serving_default'](examples=examples)['outputs'].numpy()
  trained_out = trained.signatures['serving_default'](examples=examples)['outputs'].numpy()
  assert pushed_out.shape == (len(artifacts['records']), 1)
  np.testing.assert_allclose(pushed_out, trained_out, atol=_TOLERANCE, rtol=0)
  # Probabilities, not constants: the model separates rows.
  assert 0.0 <= pushed_out.min() < pushed_out.max() <= 1.0


def test_serving_signature_rejects_nothing_without_label(artifacts):
  """serving_default takes raw examples without the label (tips): strip it and still predict."""
  stripped = []
  for record in artifacts['records'][:20]:
    example = tf.train.Example.FromString(record)
    del example.features.feature['tips']
    stripped.append(example.SerializeToString())
  pushed = tf.saved_model.load(artifacts['pushed_model'])
  with_label = pushed.signatures['serving_default'](
      examples=tf.constant(artifacts['records'][:20]))['outputs'].numpy()
  without_label = pushed.signatures['serving_default'](
      examples=tf.constant(stripped))['outputs'].numpy()
  np.testing.assert_allclose(with_label, without_label, atol=_TOLERANCE, rtol=0)
