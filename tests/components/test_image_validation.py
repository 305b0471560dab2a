"""The gate on image data, with TFDV in memory: statistics as StatisticsGen computes them
(pipeline/graph.py statistics_options: semantic-domain statistics for images), checked against
the curated digits schema (datadefs/images/schema.py) as ExampleValidator checks them, and the
drift comparator as AnomaliesGate applies it. Each refused case is named in the gate's message;
valid data, and a class balance that moved within the threshold, pass."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tensorflow_data_validation.statistics import stats_impl
from tfx_bsl.coders import example_coder

import datadefs
from components import anomalies_gate
from components.image_example_gen.executor import image_example
from core.names import STATS_FILE
from datadefs.images import files as image_files
from datadefs.images import schema as image_schema
from pipeline import graph

DIGITS = datadefs.load('digits')
# TFDV writes a split's image statistics from 100 values on (image_stats_generator.py).
_IMAGES = 120


def _png(side: int = 8, seed: int = 0) -> bytes:
  pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
  return tf.io.encode_png(pixels).numpy()


def _example(data: bytes, label: str) -> bytes:
  try:
    verified = image_files.verify(data)
  except image_files.BrokenImage:  # as if the ExampleGen's own check had been bypassed
    verified = image_files.Verified('png', 8, 8)
  return image_example(data, label, verified).SerializeToString()


def _examples(shares, extra=()):
  """_IMAGES examples, `shares` of them of each class ({class: share}), then `extra`."""
  labels = [name for name, share in shares.items() for _ in range(round(share * _IMAGES))]
  return [_example(_png(seed=i), label) for i, label in enumerate(labels)] + list(extra)


def _statistics(examples, schema=None):
  """StatisticsGen's statistics: its options, and the curated schema it reads for images."""
  options = graph.statistics_options(DIGITS)
  options.schema = schema or tfdv.load_schema_text(DIGITS.schema_path)
  batch = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(examples)
  return stats_impl.generate_statistics_in_memory(batch, options)


def _rows(examples, schema=None):
  """The gate's rows of ExampleValidator's anomalies for these examples."""
  schema = schema or tfdv.load_schema_text(DIGITS.schema_path)
  return anomalies_gate.describe_anomalies(
      'train', tfdv.validate_statistics(_statistics(examples, schema), schema))


def _balanced():
  return {'zero': 0.5, 'one': 0.5}


def test_statistics_of_images_hold_their_formats_and_valid_images_pass():
  statistics = _statistics(_examples(_balanced()))
  [image] = [f for f in statistics.datasets[0].features if f.path.step == ['image']]
  [formats] = [s for s in image.custom_stats if s.name == 'image_format_histogram']
  assert {b.label: b.sample_count for b in formats.rank_histogram.buckets} == {'png': _IMAGES}
  assert image.bytes_stats.max_num_bytes_int > 0  # the byte sizes
  assert _rows(_examples(_balanced())) == []


def test_the_gate_stops_on_an_oversized_image():
  schema = image_schema.schema(DIGITS.label.classes, max_image_bytes=1000)
  rows = _rows(_examples(_balanced(), [_example(_png(side=64), 'one')]), schema)
  assert [feature for _, feature, _, _ in rows] == ['image']
  assert 'max allowed byte size is: 1000' in anomalies_gate.format_anomalies(rows)


def test_the_gate_stops_on_a_file_that_is_no_image():
  rows = _rows(_examples(_balanced(), [_example(b'notes, not a picture', 'one')]))
  assert [feature for _, feature, _, _ in rows] == ['image']
  assert 'supported images' in anomalies_gate.format_anomalies(rows)


def test_the_gate_stops_on_an_unknown_class():
  rows = _rows(_examples(_balanced(), [_example(_png(seed=999), 'ten')]))
  assert [feature for _, feature, _, _ in rows] == ['label']
  assert 'ten' in anomalies_gate.format_anomalies(rows)


def _write(statistics, directory):
  directory.mkdir(parents=True)
  with open(directory / STATS_FILE, 'wb') as f:
    f.write(statistics.SerializeToString())
  return str(directory)


@pytest.mark.parametrize('moved, refused', [
    (image_schema.DRIFT + 0.05, True),  # a class's share moved past the threshold
    (image_schema.DRIFT - 0.15, False),  # within it
])
def test_the_gate_stops_on_class_balance_drift_over_the_threshold(tmp_path, moved, refused):
  shares = {'zero': 0.5 + moved, 'one': 0.5 - moved}
  baseline = _write(_statistics(_examples(_balanced())), tmp_path / 'baseline')
  current = _write(_statistics(_examples(shares)), tmp_path / 'current')
  rows = anomalies_gate.drift_rows(current, baseline, tfdv.load_schema_text(DIGITS.schema_path))
  assert [feature for _, feature, _, _ in rows] == (['label'] if refused else [])
  if refused:
    assert f'above the threshold {image_schema.DRIFT:g}' in anomalies_gate.format_anomalies(rows)
