"""TypedCsvExampleGen's executor: CSV files -> train/eval shards of tf.Examples, typed as declared.

The files of each split pattern are listed and every header is checked before the Beam job
starts. Each file is read by pyarrow (C++, multi-threaded) in blocks of ~8 MB; each block's
rows are dealt at random (seeded by file and block, so every run deals alike) into `num_shards`
slices, passed on as Arrow IPC bytes. A GroupByKey on the shard spreads the slices over the
workers; each shard then turns its slices into serialized tf.Examples column-at-a-time
(datadefs/tabular/examples.py), sends each example to its split with the base module's own _PartitionFn (sha256
hash buckets over the serialized example, or `partition_feature_name`) and writes shard k of
every split with TensorFlow's TFRecordWriter, compressed as ExampleFilesConfig says.

Why Do is not BaseExampleGenExecutor's: its WriteSplit moves every example through a Reshuffle
and Beam's TFRecord sink one element at a time, ~50 us per example on the DirectRunner (85 s
per 1.5M rows) against ~3 us to read and encode it, and ShardedExampleGenMixin then rewrites the
splits to NUM_SHARDS files (another ~40 us per example). Here a Beam element is a block slice,
the files come out in the configured layout, and the mixin (still applied: it reads the layout
and records `compression`) finds nothing to rewrite. The bookkeeping around the write (split
names, payload and file format properties) is the base Do's.

The examples are the bytes of tf.Example's deterministic serialization, which is what
_PartitionFn hashes for a tf.Example: a row lands in the split CsvExampleGen puts it in when the
types agree. GetInputSourceToExamplePTransform (TypedCsvToExample) serves the base class's
per-example contract for callers of GenerateExamplesByBeam.
"""

import functools
import os
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from absl import logging
import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
import numpy as np
import pyarrow as pa
import tensorflow as tf
from tfx import types
from tfx.components.example_gen import base_example_gen_executor
from tfx.components.example_gen import utils as example_gen_utils
from tfx.components.example_gen import write_split
from tfx.components.util import examples_utils
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from core import data_quality
from core import example_files
from core.example_files import ExampleFilesConfig
from components.sharded_executors import ShardedExampleGenMixin
from components.sharded_executors import example_gen_files_config
from components.typed_csv_example_gen import config
from components.typed_csv_example_gen import shards
from datadefs.tabular import csv_files
from datadefs.tabular import examples as encoding
from datadefs.tabular.csv_files import CsvInputError

# A CsvInputError raised on a Beam worker, once Beam has wrapped it: in process, the message
# plus " [while running '<step>']"; from a worker process, a RuntimeError holding the worker's
# traceback, whose last line is "...CsvInputError: <message> [while running '<step>']".
_WRAPPED = re.compile(r"CsvInputError: (.*?)(?: \[while running '[^\n]*'\])?$", re.M)
_BEAM_SUFFIX = re.compile(r" \[while running '[^\n]*'\]$")


_COMPRESSED_SUFFIXES = ('.bz2', '.zip', '.zst', '.zstd', '.xz', '.lz4', '.deflate', '.snappy')


def list_files(pattern: str) -> List[str]:
  """The files matching `pattern` (folders left out), sorted; refuses compressions other than
  GZIP, which would be read as garbled text."""
  files = sorted(path for path in fileio.glob(pattern) if not fileio.isdir(path))
  if not files:
    raise CsvInputError(f'no files match {pattern}: check input_base and input_config')
  unreadable = [path for path in files if path.lower().endswith(_COMPRESSED_SUFFIXES)]
  if unreadable:
    raise CsvInputError(f'{unreadable[0]}: only plain CSV and GZIP-compressed CSV (*.gz) '
                        'files can be read; decompress it or recompress it with gzip')
  return files


def open_file(path: str, raw: bool = False):
  """The CSV reader's opener here: local files as the reader opens them, others (gs:// on
  Vertex) through Beam's file systems, '*.gz' decompressed unless raw."""
  if '://' not in path:
    return csv_files.open_local(path, raw)
  kind = CompressionTypes.UNCOMPRESSED if raw or not path.endswith('.gz') else CompressionTypes.GZIP
  return FileSystems.open(path, compression_type=kind)


class ReadShardSlices(beam.PTransform):
  """CSV files of a pattern -> (shard, (split_index, file index, block index, Arrow IPC bytes)):
  each block's rows dealt at random (seeded by file and block) into `num_shards` slices."""

  def __init__(self, pattern: str, column_types: Mapping[str, str], num_shards: int,
               split_index: int = shards.HASHED, block_bytes: int = csv_files.BLOCK_BYTES,
               missing_values: Sequence[str] = (), label_column: Optional[str] = None):
    super().__init__()
    self._pattern, self._column_types = pattern, column_types
    self._label_column = label_column
    self._missing_values = list(missing_values)
    self._num_shards, self._split_index, self._block_bytes = num_shards, split_index, block_bytes

  def expand(self, pipeline: beam.Pipeline) -> beam.PCollection:
    files = list_files(self._pattern)
    # Every header before the job starts: a wrong file fails here, naming itself.
    for path in files:
      csv_files.check_header(path, self._column_types, self._label_column, opener=open_file)
    logging.info('TypedCsvExampleGen: %d file(s) match %s', len(files), self._pattern)
    return (pipeline
            | 'ListFiles' >> beam.Create(list(enumerate(files)))
            | 'ReadBlocks' >> beam.FlatMap(_read_slices, self._column_types, self._num_shards,
                                           self._split_index, self._block_bytes,
                                           self._missing_values))


def _read_slices(indexed_path, column_types, num_shards, split_index, block_bytes,
                 missing_values):
  file_index, path = indexed_path
  for block_index, batch in enumerate(
      csv_files.read_batches(path, column_types, missing_values, block_bytes, opener=open_file)):
    rows = np.random.default_rng([file_index, block_index]).permutation(batch.num_rows)
    for shard in range(num_shards):
      taken = rows[shard * len(rows) // num_shards:(shard + 1) * len(rows) // num_shards]
      if len(taken):
        # IPC bytes: a pickled slice would carry the whole block's buffers.
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema) as writer:
          writer.write_batch(batch.take(pa.array(taken)))
        yield shard, (split_index, file_index, block_index, sink.getvalue().to_pybytes())


def _slice_examples(keyed, column_types: Mapping[str, str],
                    label_requires: Sequence[str] = ()) -> List[bytes]:
  """The slice's serialized examples: its rows with a label."""
  _, (_, _, _, data) = keyed
  batch = shards.batch_of(data)
  records = encoding.serialize_examples(batch, column_types)
  return [record for record, keep in zip(records, shards.labelled_rows(batch, label_requires)) if keep]


class TypedCsvToExample(beam.PTransform):
  """The base class's per-example contract: one split pattern -> serialized tf.Examples
  (bytes), or tf.Example protos when the output is split by `partition_feature_name`."""

  def __init__(self, exec_properties: Dict[str, Any], split_pattern: str,
               column_types: Optional[Mapping[str, str]] = None,
               missing_values: Optional[Sequence[str]] = None,
               label: Optional[Tuple[Optional[str], Sequence[str]]] = None):
    super().__init__()
    self._label_column, self._label_requires = (
        label if label is not None else config.label_from_exec_properties(exec_properties))
    self._pattern = os.path.join(exec_properties[standard_component_specs.INPUT_BASE_KEY],
                                 split_pattern)
    self._missing_values = (list(missing_values) if missing_values is not None
                            else config.missing_values_from_exec_properties(exec_properties))
    self._column_types = (config.validate_column_types(column_types) if column_types is not None
                          else config.column_types_from_exec_properties(exec_properties))
    output_config = _proto(exec_properties, standard_component_specs.OUTPUT_CONFIG_KEY,
                           example_gen_pb2.Output())
    self._as_protos = output_config.split_config.HasField('partition_feature_name')

  def expand(self, pipeline: beam.Pipeline) -> beam.PCollection:
    examples = (pipeline
                | 'Read' >> ReadShardSlices(
                    self._pattern, self._column_types, 1,
                    missing_values=self._missing_values, label_column=self._label_column)
                | 'SpreadBlocks' >> beam.Reshuffle()
                | 'Examples' >> beam.FlatMap(_slice_examples, self._column_types,
                                             self._label_requires))
    if self._as_protos:
      examples |= 'ParseForPartitionFeature' >> beam.Map(tf.train.Example.FromString)
    return examples


def _proto(exec_properties, key, proto):
  text = exec_properties.get(key)
  if text:
    proto_utils.json_to_proto(text, proto)
  return proto


class _TypedCsvExecutor(base_example_gen_executor.BaseExampleGenExecutor):
  """Reads typed CSV and writes each split's shards; TypedCsvExampleGenExecutor (below) is the
  one to use: it reads custom_config, which ShardedExampleGenMixin hides from this Do."""

  _column_types: Optional[Dict[str, str]] = None
  _missing_values: Sequence[str] = ()
  _label: Tuple[Optional[str], Sequence[str]] = (None, ())
  _files: ExampleFilesConfig = ExampleFilesConfig()

  def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
    return functools.partial(TypedCsvToExample, column_types=self._column_types,
                             missing_values=self._missing_values, label=self._label)

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    self._log_startup(input_dict, output_dict, exec_properties)
    input_config = _proto(exec_properties, standard_component_specs.INPUT_CONFIG_KEY,
                          example_gen_pb2.Input())
    output_config = _proto(exec_properties, standard_component_specs.OUTPUT_CONFIG_KEY,
                           example_gen_pb2.Output())
    artifacts = output_dict[standard_component_specs.EXAMPLES_KEY]
    split_names = example_gen_utils.generate_output_split_names(input_config, output_config)
    artifact_utils.get_single_instance(artifacts).split_names = (
        artifact_utils.encode_split_names(split_names))
    split_dirs = [artifact_utils.get_split_uri(artifacts, name) for name in split_names]
    column_types = self._column_types or config.column_types_from_exec_properties(
        exec_properties)
    split_config = output_config.split_config
    if split_config.splits and len(input_config.splits) != 1:
      raise ValueError('output_config splits need exactly one input split, got '
                       f'{len(input_config.splits)}: split the input or the output, not both')
    buckets = []
    for split in split_config.splits:
      buckets.append((buckets[-1] if buckets else 0) + split.hash_buckets)
    for split_dir in split_dirs:
      tf.io.gfile.makedirs(split_dir)
    label_column, label_requires = self._label
    artifact = artifact_utils.get_single_instance(artifacts)
    counts_path = os.path.join(artifact.uri, shards.COUNTS_FILE)

    with self._make_beam_pipeline() as pipeline:
      slices = []
      for index, split in enumerate(input_config.splits):
        pattern = os.path.join(exec_properties[standard_component_specs.INPUT_BASE_KEY],
                               split.pattern)
        slices.append(pipeline | f'Read[{split.name}]' >> ReadShardSlices(
            pattern, column_types, self._files.num_shards,
            shards.HASHED if split_config.splits else index,
            missing_values=self._missing_values, label_column=label_column))
      _ = (slices
           | 'AllSplits' >> beam.Flatten()
           | 'GroupShards' >> beam.GroupByKey()
           | 'WriteShards' >> beam.FlatMap(shards.write_shard, split_dirs, self._files, column_types,
                                           buckets, split_config, label_requires)
           | 'SumCounts' >> beam.CombineGlobally(data_quality.merge)
           | 'WriteCounts' >> beam.Map(shards.write_counts, counts_path))
    shards.record_counts(artifact, counts_path, split_names, label_requires, list(column_types))

    for split_dir in split_dirs:  # A shard no example went to is an empty file, not missing.
      for shard in range(self._files.num_shards):
        if not tf.io.gfile.exists(shards.shard_path(split_dir, shard, self._files)):
          with tf.io.TFRecordWriter(shards.shard_path(split_dir, shard, self._files), options=(
              example_files.COMPRESSIONS[self._files.compression].tf_type)):
            pass
    payload_format = exec_properties.get(standard_component_specs.OUTPUT_DATA_FORMAT_KEY)
    file_format = exec_properties.get(standard_component_specs.OUTPUT_FILE_FORMAT_KEY)
    for artifact in artifacts:
      if payload_format:
        examples_utils.set_payload_format(artifact, payload_format)
      if file_format:
        examples_utils.set_file_format(artifact, write_split.to_file_format_str(file_format))
    logging.info('Examples generated.')


class TypedCsvExampleGenExecutor(ShardedExampleGenMixin, _TypedCsvExecutor):
  """Typed CSV -> train/eval shards laid out as custom_config's ExampleFilesConfig says."""
  leaves_out_unlabelled = True  # while writing, in _write_shard

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    # custom_config first: a bad declaration or layout fails before anything is read.
    self._column_types = config.column_types_from_exec_properties(exec_properties)
    self._missing_values = config.missing_values_from_exec_properties(exec_properties)
    self._label = config.label_from_exec_properties(exec_properties)
    self._files = example_gen_files_config(exec_properties)
    try:
      super().Do(input_dict, output_dict, exec_properties)
    except CsvInputError as error:
      # From the header checks, or from an in-process worker (Beam re-raises the same type,
      # the step's name appended).
      raise CsvInputError(_BEAM_SUFFIX.sub('', str(error))) from None
    except RuntimeError as error:
      found = _WRAPPED.findall(str(error))
      if not found:
        raise
      raise CsvInputError(found[-1]) from None
