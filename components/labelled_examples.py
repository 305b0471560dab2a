"""Rows without a label are not examples: the pass that leaves them out of the splits an
ExampleGen wrote from existing tf.Examples (ImportExampleGen, BigQueryExampleGen), counting
what it read, as the typed CSV reader does while it writes (components/typed_csv_example_gen).

Each split is read once; an example missing any of the columns its label needs (absent, or an
empty list) is left out, and the rest are written in the configured file layout
(core/example_files.py), replacing the split's files once every split is written. The counts
(core/data_quality.py: rows, rows without a label, each column's missing values, per split)
become the artifact's `data_quality` custom property. Examples keep their bytes; the ExampleGen
already chose each one's split.
"""

import json
import os
import re
from typing import Any, Callable, Dict, List, Sequence

from absl import logging
import apache_beam as beam
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue
import tensorflow as tf
from tfx import types
from tfx.types import artifact_utils

from core import data_quality
from core.example_files import ExampleFilesConfig

# Beam's shard naming: <prefix>-00000-of-00008.gz (or .tfrecord when uncompressed).
_SHARD_NAME = re.compile(r'-\d{5}-of-\d{5}(\.[A-Za-z0-9]+)?$')
_STAGING_DIR = '.labelled'
_COUNTS = 'counts'


def _has_value(features, name: str) -> bool:
  if name not in features:
    return False
  feature = features[name]
  kind = feature.WhichOneof('kind')
  return bool(kind) and len(getattr(feature, kind).value) > 0


class _LeaveOutUnlabelled(beam.DoFn):
  """Passes on the serialized examples that have a label; counts every one, per bundle, as a
  `counts` output."""

  def __init__(self, label_requires: Sequence[str], columns: Sequence[str]):
    super().__init__()
    self._requires, self._columns = list(label_requires), list(columns)
    self._counts: Dict[str, Any] = {}

  def start_bundle(self):
    self._counts = data_quality.split_counts(missing={name: 0 for name in self._columns})

  def process(self, record: bytes):
    features = tf.train.Example.FromString(record).features.feature
    self._counts['rows'] += 1
    for name in self._columns:
      if not _has_value(features, name):
        self._counts['missing'][name] += 1
    if all(_has_value(features, name) for name in self._requires):
      yield record
    else:
      self._counts['rows_without_label'] += 1

  def finish_bundle(self):
    yield beam.pvalue.TaggedOutput(_COUNTS, WindowedValue(
        {'split': self._counts}, MIN_TIMESTAMP, [GlobalWindow()]))


def _write_counts(counts: Dict[str, Any], path: str) -> None:
  with tf.io.gfile.GFile(path, 'w') as f:
    f.write(json.dumps(counts.get('split', data_quality.split_counts())))


def leave_out_unlabelled(artifacts: List[types.Artifact], files: ExampleFilesConfig,
                         label_requires: Sequence[str], columns: Sequence[str],
                         make_beam_pipeline: Callable[[], beam.Pipeline],
                         write_shards: Callable[..., beam.PTransform]) -> None:
  """Rewrites each split of `artifacts` without its unlabelled examples, in `files`' layout
  (`write_shards(prefix, files)`), and records the counts on each artifact."""
  jobs = []
  for artifact in artifacts:
    for split in artifact_utils.decode_split_names(artifact.split_names):
      split_dir = artifact_utils.get_split_uri([artifact], split)
      found = sorted(path for path in tf.io.gfile.glob(os.path.join(split_dir, '*'))
                     if not tf.io.gfile.isdir(path))
      staging = os.path.join(artifact.uri, _STAGING_DIR, split)
      jobs.append((artifact, split, split_dir, found, staging))
  with make_beam_pipeline() as pipeline:
    for index, (_, split, _, found, staging) in enumerate(jobs):
      if not found:
        continue
      prefix = _SHARD_NAME.sub('', os.path.basename(found[0]))
      outputs = (pipeline
                 | f'ListFiles[{index}]' >> beam.Create(found)
                 | f'ReadRecords[{index}]' >> beam.io.ReadAllFromTFRecord(
                     compression_type=beam.io.filesystem.CompressionTypes.AUTO)
                 | f'LeaveOut[{index}]' >> beam.ParDo(
                     _LeaveOutUnlabelled(label_requires, columns)).with_outputs(
                         _COUNTS, main='kept'))
      _ = outputs.kept | f'WriteShards[{index}]' >> write_shards(
          os.path.join(staging, prefix), files)
      _ = (outputs[_COUNTS]
           | f'SumCounts[{index}]' >> beam.CombineGlobally(data_quality.merge)
           | f'WriteCounts[{index}]' >> beam.Map(
               _write_counts, os.path.join(staging, f'.{_COUNTS}.json')))

  # Swap the files only once every split is written: a failed job leaves the output as is.
  splits: Dict[str, Dict[str, Any]] = {}
  for artifact, split, split_dir, found, staging in jobs:
    counts = data_quality.split_counts()
    if found:
      counts_path = os.path.join(staging, f'.{_COUNTS}.json')
      with tf.io.gfile.GFile(counts_path) as f:
        counts = json.loads(f.read())
      tf.io.gfile.remove(counts_path)
      for path in found:
        tf.io.gfile.remove(path)
      for path in tf.io.gfile.glob(os.path.join(staging, '*')):
        tf.io.gfile.rename(path, os.path.join(split_dir, os.path.basename(path)))
    splits.setdefault(artifact.uri, {})[split] = counts
    logging.info('%s: %d examples read, %d left out without a label %s', split_dir,
                 counts['rows'], counts['rows_without_label'], list(label_requires))
  for artifact in artifacts:
    artifact.set_string_custom_property(data_quality.PROPERTY, data_quality.to_property(
        splits.get(artifact.uri, {}), label_requires, columns))
    if tf.io.gfile.exists(os.path.join(artifact.uri, _STAGING_DIR)):
      tf.io.gfile.rmtree(os.path.join(artifact.uri, _STAGING_DIR))
