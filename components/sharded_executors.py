"""ExampleGen (CSV, import) and Transform executors that leave at least `num_shards` files per
split.

The stock executors let Beam choose how many files to write, which with the in-process
DirectRunner is one per split; the trainer's reader then has one file to interleave instead of
`cycle_length`. The stock executors hard-code their writes (ExampleGen's Do writes through
write_split.WriteSplit, Transform's Do builds its own TransformProcessor), so num_shards cannot
be passed to the write without copying those Do methods. These subclasses run the stock Do, then
rewrite each split that has fewer than num_shards files into exactly num_shards, in one Beam
pipeline on the component's own runner and options, keeping the file prefix and '.gz' suffix.
Splits that already have enough files (the usual case on Dataflow) are left alone, so the extra
read and write only happens when the runner wrote too few files, typically the DirectRunner.

Wiring: use ShardedCsvExampleGen, ShardedImportExampleGen and ShardedTransform (below) in place
of the stock components. The shard count travels in each component's custom_config
(`example_gen_custom_config`, `transform_custom_config`); without it, DEFAULT_NUM_SHARDS.
"""

import os
import re
from typing import Any, Callable, Dict, List, Mapping

from absl import logging
import apache_beam as beam
import tensorflow as tf
from google.protobuf import struct_pb2
from tfx import types
from tfx.components.example_gen import component as example_gen_component
from tfx.components.example_gen.csv_example_gen import executor as csv_executor
from tfx.components.example_gen.import_example_gen import executor as import_executor
from tfx.components.transform import component as transform_component
from tfx.components.transform import executor as transform_executor
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils
from tfx.types import standard_component_specs
from tfx.utils import json_utils
from tfx.utils import proto_utils

# Used when a component's custom_config does not say: 2x the trainer's default cycle_length.
DEFAULT_NUM_SHARDS = 8
NUM_SHARDS_KEY = 'num_shards'
# Beam's shard naming: <prefix>-00000-of-00008.gz
_SHARD_NAME = re.compile(r'-\d{5}-of-\d{5}\.gz$')
_STAGING_DIR = '.resharding'


def example_gen_custom_config(num_shards: int) -> example_gen_pb2.CustomConfig:
  """ExampleGen's custom_config (a proto holding an Any) carrying the shard count."""
  custom_config = example_gen_pb2.CustomConfig()
  custom_config.custom_config.Pack(struct_pb2.Struct(fields={
      NUM_SHARDS_KEY: struct_pb2.Value(number_value=_checked(num_shards))}))
  return custom_config


def transform_custom_config(num_shards: int) -> Dict[str, Any]:
  """Transform's custom_config (a dict; preprocessing_fn ignores it) carrying the count."""
  return {NUM_SHARDS_KEY: _checked(num_shards)}


class _ShardedExampleGen:
  """Mixin for an ExampleGen executor class: its Do, then at least num_shards files/split."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    # Read the count first: a bad custom_config fails before any data is written.
    num_shards = example_gen_num_shards(exec_properties)
    super().Do(input_dict, output_dict, exec_properties)
    reshard_examples(output_dict[standard_component_specs.EXAMPLES_KEY], num_shards,
                     self._make_beam_pipeline)


class ShardedCsvExampleGenExecutor(_ShardedExampleGen, csv_executor.Executor):
  """CsvExampleGen's executor, then at least num_shards files per split."""


class ShardedImportExampleGenExecutor(_ShardedExampleGen, import_executor.Executor):
  """ImportExampleGen's executor, then at least num_shards files per split."""


class ShardedTransformExecutor(transform_executor.Executor):
  """Transform's executor, then at least num_shards files per transformed split."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    # Read the count first: a bad custom_config fails before any data is written.
    num_shards = transform_num_shards(exec_properties)
    super().Do(input_dict, output_dict, exec_properties)
    # Nothing to reshard when Transform does not materialize its output.
    reshard_examples(
        output_dict.get(standard_component_specs.TRANSFORMED_EXAMPLES_KEY, []), num_shards,
        self._make_beam_pipeline)


# The components. In TFX 1.16 neither CsvExampleGen, ImportExampleGen nor Transform takes a
# custom_executor_spec (and the ExampleGens take no custom_config), so each is the generic
# component with the sharded executor as its EXECUTOR_SPEC. Give each the stock component's id
# (.with_id('CsvExampleGen') ...) to keep its artifact paths and names in reports.


class ShardedCsvExampleGen(example_gen_component.FileBasedExampleGen):
  """CsvExampleGen writing at least num_shards files per split (example_gen_custom_config)."""
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(ShardedCsvExampleGenExecutor)


class ShardedImportExampleGen(example_gen_component.FileBasedExampleGen):
  """ImportExampleGen (tf.Example payload) writing at least num_shards files per split."""
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(ShardedImportExampleGenExecutor)


class ShardedTransform(transform_component.Transform):
  """Transform writing at least num_shards files per split (transform_custom_config)."""
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(ShardedTransformExecutor)


def example_gen_num_shards(exec_properties: Mapping[str, Any]) -> int:
  text = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
  if not text:
    return DEFAULT_NUM_SHARDS
  custom_config = proto_utils.json_to_proto(text, example_gen_pb2.CustomConfig())
  if not custom_config.HasField('custom_config'):
    return DEFAULT_NUM_SHARDS
  values = struct_pb2.Struct()
  if not custom_config.custom_config.Unpack(values):
    raise ValueError('ExampleGen custom_config must pack a google.protobuf.Struct, got '
                     f'{custom_config.custom_config.type_url!r}')
  if NUM_SHARDS_KEY not in values.fields:
    return DEFAULT_NUM_SHARDS
  return _checked(values.fields[NUM_SHARDS_KEY].number_value)


def transform_num_shards(exec_properties: Mapping[str, Any]) -> int:
  text = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
  values = (json_utils.loads(text) if text else None) or {}
  return _checked(values.get(NUM_SHARDS_KEY, DEFAULT_NUM_SHARDS))


def reshard_examples(artifacts: List[types.Artifact], num_shards: int,
                     make_beam_pipeline: Callable[[], beam.Pipeline]) -> None:
  """Rewrites each split of `artifacts` holding fewer than num_shards .gz files into
  exactly num_shards files of the same prefix, records shared out evenly."""
  short_splits = []
  for artifact in artifacts:
    for split in artifact_utils.decode_split_names(artifact.split_names):
      split_dir = artifact_utils.get_split_uri([artifact], split)
      files = sorted(tf.io.gfile.glob(os.path.join(split_dir, '*.gz')))
      if files and len(files) < num_shards:
        staging_dir = os.path.join(artifact.uri, _STAGING_DIR, os.path.basename(split_dir))
        short_splits.append((split_dir, files, staging_dir))
  if not short_splits:
    return

  # One pipeline for every split: a single job (and start-up) on remote runners.
  with make_beam_pipeline() as pipeline:
    for index, (_, files, staging_dir) in enumerate(short_splits):
      prefix = _SHARD_NAME.sub('', os.path.basename(files[0]))
      _ = (pipeline
           | f'ListFiles[{index}]' >> beam.Create(files)
           | f'ReadRecords[{index}]' >> beam.io.ReadAllFromTFRecord(
               compression_type=beam.io.filesystem.CompressionTypes.GZIP)
           | f'WriteShards[{index}]' >> beam.io.WriteToTFRecord(
               os.path.join(staging_dir, prefix), file_name_suffix='.gz',
               num_shards=num_shards))

  # Swap files only once every split is written: a failed pipeline leaves the output as is.
  for split_dir, files, staging_dir in short_splits:
    for path in files:
      tf.io.gfile.remove(path)
    for path in tf.io.gfile.glob(os.path.join(staging_dir, '*.gz')):
      tf.io.gfile.rename(path, os.path.join(split_dir, os.path.basename(path)))
    logging.info('Resharded %s: %d file(s) -> %d', split_dir, len(files), num_shards)
  for artifact in artifacts:
    if tf.io.gfile.exists(os.path.join(artifact.uri, _STAGING_DIR)):
      tf.io.gfile.rmtree(os.path.join(artifact.uri, _STAGING_DIR))


def _checked(num_shards) -> int:
  """num_shards as an int; rejects anything but a whole number >= 1 (JSON may give 8.0)."""
  if (isinstance(num_shards, bool) or not isinstance(num_shards, (int, float)) or
      num_shards != int(num_shards) or num_shards < 1):
    raise ValueError(f'{NUM_SHARDS_KEY} must be a whole number >= 1, got {num_shards!r}')
  return int(num_shards)
