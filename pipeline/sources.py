"""Where examples come from: CSV files, existing TFRecords of tf.Examples, or BigQuery.

A source is chosen by config (`source`); `input_pattern` may hold `{SPAN}` (and `{VERSION}`),
in which case each run ingests the newest span, resolved by TFX's own span logic so the CSV
pre-check looks at exactly the files ExampleGen will read.
"""

import glob
import os
from typing import Optional, Tuple

from google.protobuf import message
import tensorflow as tf
from tfx import v1 as tfx
from tfx.components.example_gen import utils as example_gen_utils

from components import example_files
from components import sharded_executors
from components.example_files import ExampleFilesConfig
from components.typed_csv_example_gen import TypedCsvExampleGen
from datasets.definition import Dataset

SOURCES = ('csv', 'tfrecord', 'bigquery')


def input_config(input_pattern: str) -> tfx.proto.Input:
  return tfx.proto.Input(splits=[tfx.proto.Input.Split(name='single_split', pattern=input_pattern)])


def resolve_input_files(data_root: str, input_pattern: str) -> Tuple[int, Tuple[str, ...]]:
  """(span, files) that ExampleGen will read: span 0 when the pattern has no {SPAN}."""
  config = input_config(input_pattern)
  try:
    _, span, _ = example_gen_utils.calculate_splits_fingerprint_span_and_version(
        data_root, config.splits)
  except (ValueError, FileNotFoundError) as error:
    raise FileNotFoundError(
        f'no input matches {input_pattern!r} under {data_root}: {error}') from None
  files = sorted(p for p in glob.glob(os.path.join(data_root, config.splits[0].pattern))
                 if os.path.isfile(p))
  return span, tuple(files)


def check_tfrecord_files(files) -> None:
  """Reads every record of every TFRecord file ('*.gz' as GZIP, others uncompressed, as
  ImportExampleGen will); raises naming the first bad file."""
  if not files:
    raise FileNotFoundError('no TFRecord files to import')
  for path in files:
    try:
      for record in tf.data.TFRecordDataset(
          path, compression_type=example_files.tf_compression_type(path)):
        tf.train.Example.FromString(record.numpy())
    except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as error:
      kind = ('GZIP TFRecord file' if example_files.compression_of(path) == 'gzip' else
              'uncompressed TFRecord file (only files named *.gz are read as GZIP)')
      raise ValueError(f'{path} is not a valid {kind} of tf.Examples: '
                       f'{error.message.splitlines()[0]}') from None
    except message.DecodeError as error:
      raise ValueError(f'{path} holds a record that is not a tf.Example: {error}') from None


def example_gen(source: str, data_root: Optional[str], input_pattern: Optional[str],
                query: Optional[str], output_config: tfx.proto.Output,
                files: ExampleFilesConfig, dataset: Dataset):
  """The ExampleGen component for `source`, writing the file layout of `files` (see
  components/sharded_executors.py), so readers can interleave the shards."""
  config = input_config(input_pattern) if input_pattern else None
  shards = sharded_executors.example_gen_custom_config(files)
  if source == 'csv':
    # CSV types come from the dataset definition, never inferred from a batch's values; files
    # are read by pyarrow (.csv.gz, BOM, columns in any order, RFC 4180 quoting, CRLF).
    return TypedCsvExampleGen(
        input_base=data_root, column_types=dataset.column_types,
        missing_values=dataset.missing_values,
        input_config=config, output_config=output_config,
        custom_config=shards).with_id('CsvExampleGen')
  if source == 'tfrecord':
    return sharded_executors.ShardedImportExampleGen(
        input_base=data_root, input_config=config, output_config=output_config,
        custom_config=shards).with_id('ImportExampleGen')
  if source == 'bigquery':
    if not query:
      raise ValueError('source "bigquery" needs a query')
    return sharded_executors.ShardedBigQueryExampleGen(
        query=query, output_config=output_config, custom_config=shards,
    ).with_id('BigQueryExampleGen')
  raise ValueError(f'source must be one of {SOURCES}, got {source!r}')
