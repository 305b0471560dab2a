"""The ExampleGen of each data kind and source: CSV files, existing TFRecords of tf.Examples, or
BigQuery, for a tabular dataset; a folder of class folders, or a CSV manifest in it listing the
images (the definition's `[image] manifest`), for an image dataset (datadefs/kinds.py says which
sources a kind has).

`input_pattern` may hold `{SPAN}` (and `{VERSION}`), in which case each run ingests the newest
span, resolved by TFX's own span logic (the pre-check resolves it the same way:
runs/precheck.py).
"""

from typing import Optional

from tfx import v1 as tfx

from components import sharded_executors
from components.image_example_gen import ImageExampleGen, ImageFolderConfig
from components.typed_csv_example_gen import TypedCsvExampleGen
from core.example_files import ExampleFilesConfig
from datadefs.definition import Dataset


def input_config(input_pattern: str) -> tfx.proto.Input:
  return tfx.proto.Input(splits=[tfx.proto.Input.Split(name='single_split', pattern=input_pattern)])


def example_gen(source: str, data_root: Optional[str], input_pattern: Optional[str],
                query: Optional[str], output_config: tfx.proto.Output,
                files: ExampleFilesConfig, dataset: Dataset):
  """The ExampleGen component for `source`, writing the file layout of `files` (see
  components/sharded_executors.py), so readers can interleave the shards."""
  config = input_config(input_pattern) if input_pattern else None
  shards = sharded_executors.example_gen_custom_config(files)
  # Examples that exist already (imported, or from BigQuery): those without a label are left
  # out after the ExampleGen, and counted (components/labelled_examples.py).
  labelled = sharded_executors.example_gen_custom_config(
      files, dataset.label.required_columns, list(dataset.column_types))
  if source == 'csv':
    # CSV types come from the dataset definition, never inferred from a batch's values; files
    # are read by pyarrow (.csv.gz, BOM, columns in any order, RFC 4180 quoting, CRLF).
    return TypedCsvExampleGen(
        input_base=data_root, column_types=dataset.column_types,
        missing_values=dataset.missing_values,
        # A row without a label is no example: left out here, and counted.
        label_column=dataset.label.column, label_requires=dataset.label.required_columns,
        input_config=config, output_config=output_config,
        custom_config=shards).with_id('CsvExampleGen')
  if source == 'tfrecord':
    return sharded_executors.ShardedImportExampleGen(
        input_base=data_root, input_config=config, output_config=output_config,
        custom_config=labelled).with_id('ImportExampleGen')
  if source == 'folder':
    if input_pattern:
      raise ValueError(f'an image dataset reads every class folder under its data folder; '
                       f'INPUT_PATTERN ({input_pattern!r}) does not apply: leave it unset')
    # One tf.Example per image, split by content (components/image_example_gen).
    return ImageExampleGen(
        input_base=data_root, files=files, output_config=output_config,
        folder=ImageFolderConfig(
            classes=tuple(dataset.label.classes),
            max_broken_fraction=dataset.image.max_broken_fraction,
            min_images_per_class=dataset.image.min_images_per_class,
            manifest=dataset.image.manifest),
    ).with_id('ImageExampleGen')
  if source == 'bigquery':
    if not query:
      raise ValueError('source "bigquery" needs a query')
    return sharded_executors.ShardedBigQueryExampleGen(
        query=query, output_config=output_config, custom_config=labelled,
    ).with_id('BigQueryExampleGen')
  raise ValueError(f'source must be one of {list(dataset.kind_info.sources)}, got {source!r}')
