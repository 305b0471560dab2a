"""ExampleGen (CSV, import) and Transform executors that write example files the way
ExampleFilesConfig (core/example_files.py) says: at least `num_shards` files per split,
GZIP-compressed or not.

The stock executors let Beam choose how many files to write, which with the in-process
DirectRunner is one per split; the trainer's reader then has one file to interleave instead of
`cycle_length`. They also always write GZIP ('.gz'). Both are hard-coded in the stock Do methods
(ExampleGen writes through write_split.WriteSplit, Transform builds its own TransformProcessor),
so they cannot be passed to the write without copying those methods. Transform's executor here
swaps in a TransformProcessor whose write has the layout (`_transform_writing`). The ExampleGen
executors run the stock Do, then rewrite each split that has too few files or the other
compression, in one Beam pipeline on the component's own runner and options, keeping the file
prefix (the typed CSV reader, components/typed_csv_example_gen, writes the layout itself).
Splits already laid out as asked are left alone, so the extra read and write only happens when
needed.

Downstream readers need no setting: TFX's readers (StatisticsGen, Transform, Evaluator, through
tfx_bsl) and the trainer's input pipeline tell the compression from each file's suffix. The
artifacts' `file_format` property stays 'tfrecords_gzip', TFX 1.16's only name for TFRecords;
the `compression` custom property says what was written.

Wiring: use ShardedCsvExampleGen, ShardedImportExampleGen, ShardedBigQueryExampleGen and
ShardedTransform (below) in place of the stock components. The layout travels in each
component's custom_config (`example_gen_custom_config`, `transform_custom_config`); without it,
the defaults.
"""

import contextlib
import os
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

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
from tfx.components.transform import labels as transform_labels
from tfx.dsl.components.base import executor_spec
from tfx.extensions.google_cloud_big_query.example_gen import component as big_query_component
from tfx.extensions.google_cloud_big_query.example_gen import executor as big_query_executor
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils
from tfx.types import standard_component_specs
from tfx.utils import json_utils
from tfx.utils import proto_utils

from components import direct_runner
from components import labelled_examples
from core import example_files
from core.example_files import ExampleFilesConfig

# Beam's shard naming: <prefix>-00000-of-00008.gz (or .tfrecord when uncompressed).
_SHARD_NAME = re.compile(r'-\d{5}-of-\d{5}(\.[A-Za-z0-9]+)?$')
_STAGING_DIR = '.resharding'
# custom_config keys of an ExampleGen of existing tf.Examples: see example_gen_custom_config.
LABEL_REQUIRES_KEY = 'label_requires'
COLUMNS_KEY = 'columns'


def example_gen_custom_config(files: ExampleFilesConfig, label_requires: Sequence[str] = (),
                              columns: Sequence[str] = ()) -> example_gen_pb2.CustomConfig:
  """ExampleGen's custom_config (a proto holding an Any) carrying the file layout, and for an
  ExampleGen of existing tf.Examples (import, BigQuery) the columns a row needs to have a
  label and the columns to count missing values of: given those, its examples without a label
  are left out (components/labelled_examples.py)."""
  custom_config = example_gen_pb2.CustomConfig()
  values = struct_pb2.Struct()
  values.update(files.to_dict())
  if columns:
    values.update({LABEL_REQUIRES_KEY: list(label_requires), COLUMNS_KEY: list(columns)})
  custom_config.custom_config.Pack(values)
  return custom_config


def transform_custom_config(files: ExampleFilesConfig) -> Dict[str, Any]:
  """Transform's custom_config (a dict; preprocessing_fn ignores it) carrying the layout."""
  return files.to_dict()


class ShardedExampleGenMixin:
  """Mixin for an ExampleGen executor class: its Do, then (given a label rule in custom_config)
  its examples without a label left out, and the configured file layout."""
  # Whether the executor leaves out unlabelled rows itself (the typed CSV reader does).
  leaves_out_unlabelled = False

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    # Read the layout first: a bad custom_config fails before any data is written.
    files = example_gen_files_config(exec_properties)
    # custom_config carries only the layout. The stock Do must not see it: BigQuery's passes
    # it to its reader as keyword arguments.
    stock_properties = {key: value for key, value in exec_properties.items()
                        if key != standard_component_specs.CUSTOM_CONFIG_KEY}
    super().Do(input_dict, output_dict, stock_properties)
    label_requires, columns = _label_rule(exec_properties)
    if columns and not self.leaves_out_unlabelled:
      labelled_examples.leave_out_unlabelled(
          output_dict[standard_component_specs.EXAMPLES_KEY], files, label_requires, columns,
          self._make_beam_pipeline, write_shards)
    reshard_examples(output_dict[standard_component_specs.EXAMPLES_KEY], files,
                     self._make_beam_pipeline)


class ShardedCsvExampleGenExecutor(ShardedExampleGenMixin, csv_executor.Executor):
  """CsvExampleGen's executor, then the configured file layout."""


class ShardedImportExampleGenExecutor(ShardedExampleGenMixin, import_executor.Executor):
  """ImportExampleGen's executor, then the configured file layout."""


class ShardedBigQueryExampleGenExecutor(ShardedExampleGenMixin, big_query_executor.Executor):
  """BigQueryExampleGen's executor, then the configured file layout."""


class ShardedTransformExecutor(direct_runner.ScaledDirectRunnerMixin, transform_executor.Executor):
  """Transform's executor (on every core for large inputs: components/direct_runner.py), then
  the configured layout of the transformed examples."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    # Read the layout first: a bad custom_config fails before any data is written.
    files = transform_files_config(exec_properties)
    self.scale_to_input(input_dict, standard_component_specs.EXAMPLES_KEY)
    with _transform_writing(files):
      super().Do(input_dict, output_dict, exec_properties)
    # Already laid out as asked (so nothing is rewritten), unless a TFX change bypasses the
    # write above; nothing to rewrite when Transform does not materialize its output.
    reshard_examples(
        output_dict.get(standard_component_specs.TRANSFORMED_EXAMPLES_KEY, []), files,
        self._make_beam_pipeline)


@contextlib.contextmanager
def _transform_writing(files: ExampleFilesConfig):
  """Within: the stock Transform executor writes its transformed examples in `files`' layout
  directly, saving a second pass over them (39 s of 144 s at 1.5M rows).

  The stock Do builds `TransformProcessor()` by its module-level name and writes through the
  processor's `_EncodeAndWrite`; Do is 200 lines to copy, so for the length of one Do that name
  is a subclass with its own write. Components run one at a time in a process (LocalDagRunner,
  or one container per component on Vertex), so no other Transform sees it.
  """
  stock = transform_executor.TransformProcessor

  class LaidOutTransformProcessor(stock):

    @staticmethod
    @beam.ptransform_fn
    def _EncodeAndWrite(pcoll, schema, file_format, output_path):  # pylint: disable=invalid-name
      if file_format != transform_labels.FORMAT_TFRECORD:
        return pcoll | stock._EncodeAndWrite(  # pylint: disable=protected-access
            schema=schema, file_format=file_format, output_path=output_path)
      return (pcoll
              | 'EncodeAndSerialize' >> beam.ParDo(stock._RecordBatchToExamplesFn(schema))  # pylint: disable=protected-access
              | 'ExtractExamples' >> beam.Values()
              | 'WriteToTFRecord' >> write_shards(output_path, files))

  transform_executor.TransformProcessor = LaidOutTransformProcessor
  try:
    yield
  finally:
    transform_executor.TransformProcessor = stock


# The components. In TFX 1.16 neither CsvExampleGen, ImportExampleGen nor Transform takes a
# custom_executor_spec (and the file ExampleGens take no custom_config), so each is the generic
# (or BigQuery) component with the sharded executor as its EXECUTOR_SPEC. Give each the stock
# component's id (.with_id('CsvExampleGen') ...) to keep its artifact paths and report names.


class ShardedCsvExampleGen(example_gen_component.FileBasedExampleGen):
  """CsvExampleGen writing the file layout of example_gen_custom_config."""
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(ShardedCsvExampleGenExecutor)


class ShardedImportExampleGen(example_gen_component.FileBasedExampleGen):
  """ImportExampleGen (tf.Example payload) writing the file layout of its custom_config."""
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(ShardedImportExampleGenExecutor)


class ShardedBigQueryExampleGen(big_query_component.BigQueryExampleGen):
  """BigQueryExampleGen writing the file layout of example_gen_custom_config."""
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(ShardedBigQueryExampleGenExecutor)


class ShardedTransform(transform_component.Transform):
  """Transform writing the file layout of transform_custom_config."""
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(ShardedTransformExecutor)


def example_gen_files_config(exec_properties: Mapping[str, Any]) -> ExampleFilesConfig:
  text = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
  if not text:
    return ExampleFilesConfig()
  custom_config = proto_utils.json_to_proto(text, example_gen_pb2.CustomConfig())
  if not custom_config.HasField('custom_config'):
    return ExampleFilesConfig()
  values = struct_pb2.Struct()
  if not custom_config.custom_config.Unpack(values):
    raise ValueError('ExampleGen custom_config must pack a google.protobuf.Struct, got '
                     f'{custom_config.custom_config.type_url!r}')
  return ExampleFilesConfig.from_dict(dict(values.items()))


def _label_rule(exec_properties: Mapping[str, Any]):
  """(columns a row needs to have a label, columns to count) in custom_config; ((), ()) when
  it has none."""
  text = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
  custom_config = proto_utils.json_to_proto(text, example_gen_pb2.CustomConfig()) if text else (
      example_gen_pb2.CustomConfig())
  values = struct_pb2.Struct()
  if not custom_config.HasField('custom_config') or not custom_config.custom_config.Unpack(
      values) or COLUMNS_KEY not in values:
    return (), ()
  return ([str(name) for name in values[LABEL_REQUIRES_KEY]],
          [str(name) for name in values[COLUMNS_KEY]])


def transform_files_config(exec_properties: Mapping[str, Any]) -> ExampleFilesConfig:
  text = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
  return ExampleFilesConfig.from_dict(json_utils.loads(text) if text else None)


def write_shards(prefix: str, files: ExampleFilesConfig,
                 num_shards: Optional[int] = None) -> beam.PTransform:
  """Writes serialized records to `num_shards` (default: the layout's) files named
  <prefix>-00000-of-0000N<suffix>, compressed as `files` says."""
  return beam.io.WriteToTFRecord(
      prefix, file_name_suffix=files.suffix, num_shards=num_shards or files.num_shards,
      compression_type=files.beam_compression_type)


def reshard_examples(artifacts: List[types.Artifact], files_config: ExampleFilesConfig,
                     make_beam_pipeline: Callable[[], beam.Pipeline]) -> None:
  """Rewrites each split of `artifacts` with fewer than num_shards files, or files of another
  compression, into max(num_shards, its file count) files of the same prefix, records shared
  out evenly; records the compression on each artifact."""
  to_rewrite = []
  for artifact in artifacts:
    artifact.set_string_custom_property(example_files.COMPRESSION_KEY, files_config.compression)
    for split in artifact_utils.decode_split_names(artifact.split_names):
      split_dir = artifact_utils.get_split_uri([artifact], split)
      files = sorted(path for path in tf.io.gfile.glob(os.path.join(split_dir, '*'))
                     if not tf.io.gfile.isdir(path))
      if files and (len(files) < files_config.num_shards or any(
          example_files.compression_of(path) != files_config.compression for path in files)):
        staging_dir = os.path.join(artifact.uri, _STAGING_DIR, os.path.basename(split_dir))
        to_rewrite.append((split_dir, files, staging_dir))
  if not to_rewrite:
    return

  # One pipeline for every split: a single job (and start-up) on remote runners.
  with make_beam_pipeline() as pipeline:
    for index, (_, files, staging_dir) in enumerate(to_rewrite):
      prefix = _SHARD_NAME.sub('', os.path.basename(files[0]))
      _ = (pipeline
           | f'ListFiles[{index}]' >> beam.Create(files)
           # AUTO: each file is read as its name says ('.gz' is GZIP).
           | f'ReadRecords[{index}]' >> beam.io.ReadAllFromTFRecord(
               compression_type=beam.io.filesystem.CompressionTypes.AUTO)
           | f'WriteShards[{index}]' >> write_shards(
               os.path.join(staging_dir, prefix), files_config,
               num_shards=max(files_config.num_shards, len(files))))

  # Swap files only once every split is written: a failed pipeline leaves the output as is.
  for split_dir, files, staging_dir in to_rewrite:
    for path in files:
      tf.io.gfile.remove(path)
    written = tf.io.gfile.glob(os.path.join(staging_dir, '*'))
    for path in written:
      tf.io.gfile.rename(path, os.path.join(split_dir, os.path.basename(path)))
    logging.info('Rewrote %s: %d file(s) -> %d %s file(s)', split_dir, len(files), len(written),
                 files_config.compression)
  for artifact in artifacts:
    if tf.io.gfile.exists(os.path.join(artifact.uri, _STAGING_DIR)):
      tf.io.gfile.rmtree(os.path.join(artifact.uri, _STAGING_DIR))
