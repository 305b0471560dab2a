"""The data pre-check before any component runs: the data folder exists and holds the files the
ExampleGen will read, and those files are what the dataset says, each problem named by file (and
line and column, for a CSV).

The folder and the pattern are checked here; the files themselves by the dataset's data kind
(datadefs/kinds.py `check_files`: the CSV files of a tabular dataset are read by the same reader
the ExampleGen uses). TFRecords to import are read record by record. Checking CSV files imports
neither TensorFlow nor TFX: bad files are named at once.
"""

from pathlib import Path
from typing import Optional, Sequence, Tuple

from datadefs.definition import Dataset

MAX_PROBLEMS_LISTED = 20


class DataCheckError(ValueError):
  """The data folder cannot be used; the message names every problem found (up to a limit)."""


def check_data_root(data_root: str, dataset: Dataset, *, input_pattern: Optional[str] = None,
                    source: str = 'csv') -> int:
  """Raises DataCheckError naming every problem; returns the number of files checked.

  With `input_pattern` (e.g. 'span-{SPAN}/*.csv') only the files it matches (of the newest span)
  are checked: the ones the ExampleGen will read.
  """
  root = Path(data_root)
  if not root.exists():
    raise DataCheckError(f'data folder {root} does not exist')
  if not root.is_dir():
    raise DataCheckError(f'data root {root} is not a folder (give the folder holding the data)')
  # An image dataset's ExampleGen reads every class folder, whatever its pattern fingerprints.
  if input_pattern and not dataset.kind_info.folders:
    try:
      _, names = resolve_input_files(str(root), input_pattern)
    except FileNotFoundError as error:
      raise DataCheckError(str(error)) from None
    files = [Path(name) for name in names]
    if not files:
      raise DataCheckError(f'no files match {input_pattern!r} under {root}')
  else:
    # An image dataset's class folders too (datadefs/kinds.py `folders`).
    files = sorted(p for p in root.iterdir() if not p.name.startswith('.') and (
        p.is_file() or (dataset.kind_info.folders and p.is_dir())))
    if not files:
      raise DataCheckError(f'data folder {root} is empty: put one or more data files in it')
  if source == 'tfrecord':
    try:
      check_tfrecord_files([str(p) for p in files])
    except ValueError as error:
      raise DataCheckError(str(error)) from None
    return len(files)
  problems = dataset.kind_info.check_files(files, dataset, MAX_PROBLEMS_LISTED + 1)
  if problems:
    listed = problems[:MAX_PROBLEMS_LISTED]
    more = (f'\n  ... and more (first {MAX_PROBLEMS_LISTED} shown)'
            if len(problems) > len(listed) else '')
    raise DataCheckError(f'the input data does not match dataset {dataset.name!r}:\n  ' +
                         '\n  '.join(listed) + more)
  return len(files)


def resolve_input_files(data_root: str, input_pattern: str) -> Tuple[int, Tuple[str, ...]]:
  """(span, files) that the ExampleGen will read: span 0 when the pattern has no {SPAN}.

  Resolved by TFX's own span logic (imported here: it starts TensorFlow), so the check looks at
  exactly the files the ExampleGen's driver picks.
  """
  # pylint: disable=import-outside-toplevel
  import glob
  import os
  from tfx.components.example_gen import utils as example_gen_utils
  from tfx.proto import example_gen_pb2
  splits = [example_gen_pb2.Input.Split(name='single_split', pattern=input_pattern)]
  try:
    _, span, _ = example_gen_utils.calculate_splits_fingerprint_span_and_version(
        data_root, splits)
  except (ValueError, FileNotFoundError) as error:
    raise FileNotFoundError(
        f'no input matches {input_pattern!r} under {data_root}: {error}') from None
  files = sorted(p for p in glob.glob(os.path.join(data_root, splits[0].pattern))
                 if os.path.isfile(p))
  return span, tuple(files)


def check_tfrecord_files(files: Sequence[str]) -> None:
  """Reads every record of every TFRecord file ('*.gz' as GZIP, others uncompressed, as
  ImportExampleGen will); raises ValueError naming the first bad file."""
  # pylint: disable=import-outside-toplevel; TensorFlow only for TFRecords
  import tensorflow as tf
  from google.protobuf import message
  from core import example_files
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

