"""Benchmark data: transformed taxi examples, made once and reused.

The embedded taxi sample is transformed by the project's real `preprocessing_fn` with TFT on
Beam (in-memory DirectRunner), then scaled to `examples` rows by resampling with a fixed seed and
jittering the float features slightly. The result is written like a TFX Transform output: GZIP
TFRecord shards of transformed tf.Examples under `transformed_examples/Split-train/`, and the
TFT output (`transform_graph/`) so `tft.TFTransformOutput` gives the feature spec and schema.

The data is cached under `<data_dir>/<key>/`, `key` hashing the parameters, the sample, the raw
schema and the code that makes it; a half-written cache is never visible (made in a temporary
folder, then renamed).
"""

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import pyarrow as pa
import tensorflow as tf
import tensorflow_transform as tft
from tfx_bsl.coders import example_coder

from core.beam_args import LOCAL_BEAM_ARGS
import datadefs

_REPO_ROOT = Path(__file__).resolve().parents[1]
# Code whose change changes the data: the transform and this generator.
_CODE_FILES = ('transform/preprocessing.py', 'transform/tabular.py', 'datadefs/taxi/dataset.toml',
               'bench/data.py')
_SPLIT_DIR = os.path.join('transformed_examples', 'Split-train')
_META = 'meta.json'
DEFAULT_DATA_DIR = str(_REPO_ROOT / 'bench' / 'data')


@dataclasses.dataclass(frozen=True)
class DataConfig:
  """What data to make. Every field is part of the cache key."""
  examples: int = 1_000_000
  num_shards: int = 16
  seed: int = 20240611
  # Standard deviation of the noise added to each resampled float feature (already z-scored, so
  # this is in standard deviations): duplicates differ, the distribution does not.
  float_jitter: float = 0.01
  source_csv: str = os.path.join(datadefs.data_root(datadefs.load("taxi")), 'data.csv')
  raw_schema_path: str = datadefs.load('taxi').schema_path

  def __post_init__(self):
    if self.examples < 1:
      raise ValueError(f'examples must be >= 1, got {self.examples}')
    if not 1 <= self.num_shards <= self.examples:
      raise ValueError(f'num_shards must be in [1, examples], got {self.num_shards}')
    if self.float_jitter < 0:
      raise ValueError(f'float_jitter must be >= 0, got {self.float_jitter}')


@dataclasses.dataclass(frozen=True)
class BenchData:
  """A made data set: where it is and how it was made."""
  root: str
  key: str
  examples: int
  files: Tuple[str, ...]
  # Examples in each file, in `files` order.
  shard_examples: Tuple[int, ...]
  # Seconds it took to make (when it was made, possibly by an earlier run).
  generation_seconds: float
  # True when this call made it, False when it was reused from the cache.
  generated_now: bool

  @property
  def transform_graph_dir(self) -> str:
    return os.path.join(self.root, 'transform_graph')

  @property
  def examples_uri(self) -> str:
    """The folder a TFX Examples artifact with split 'train' would point at."""
    return os.path.join(self.root, 'transformed_examples')

  def tf_transform_output(self) -> tft.TFTransformOutput:
    return tft.TFTransformOutput(self.transform_graph_dir)

  def feature_spec(self) -> Dict[str, tf.io.FixedLenFeature]:
    return self.tf_transform_output().transformed_feature_spec()


def cache_key(config: DataConfig) -> str:
  digest = hashlib.sha256()
  params = dataclasses.asdict(config)
  # The sample and schema count by content, not by where they are.
  for name in ('source_csv', 'raw_schema_path'):
    digest.update(Path(params.pop(name)).read_bytes())
  digest.update(json.dumps(params, sort_keys=True).encode())
  for relative in _CODE_FILES:
    digest.update((_REPO_ROOT / relative).read_bytes())
  return digest.hexdigest()[:16]


def ensure_data(config: DataConfig, data_dir: str = DEFAULT_DATA_DIR) -> BenchData:
  """Returns the data for `config`, making it first when it is not cached yet."""
  key = cache_key(config)
  root = os.path.join(data_dir, key)
  if not os.path.exists(os.path.join(root, _META)):
    os.makedirs(data_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix=f'{key}.tmp-', dir=data_dir)
    try:
      _generate(config, work)
      # Another run may have made the same data meanwhile: keep that one.
      if not os.path.exists(os.path.join(root, _META)):
        shutil.rmtree(root, ignore_errors=True)  # A folder without meta.json is not data.
        os.replace(work, root)
    finally:
      shutil.rmtree(work, ignore_errors=True)
    generated_now = True
  else:
    generated_now = False
  meta = json.loads(Path(root, _META).read_text())
  files = tuple(sorted(str(path) for path in Path(root, _SPLIT_DIR).glob('*.gz')))
  if len(files) != len(meta['shard_examples']):
    raise FileNotFoundError(f'{root} has {len(files)} shards, its {_META} lists '
                            f"{len(meta['shard_examples'])}: delete the folder to remake it")
  return BenchData(root=root, key=key, examples=meta['examples'], files=files,
                   shard_examples=tuple(meta['shard_examples']),
                   generation_seconds=meta['generation_seconds'], generated_now=generated_now)


def _generate(config: DataConfig, out_dir: str) -> None:
  start = time.perf_counter()
  transform_graph_dir = os.path.join(out_dir, 'transform_graph')
  base = _transform_sample(config, transform_graph_dir, os.path.join(out_dir, 'tmp'))
  transform_seconds = time.perf_counter() - start
  columns = scale_columns(base, config.examples, config.seed, config.float_jitter)
  schema = tft.TFTransformOutput(transform_graph_dir).transformed_metadata.schema
  shard_examples = _write_shards(columns, os.path.join(out_dir, _SPLIT_DIR), config.num_shards,
                                 schema)
  shutil.rmtree(os.path.join(out_dir, 'tmp'), ignore_errors=True)
  meta = {
      'config': dataclasses.asdict(config),
      'examples': config.examples,
      'shard_examples': shard_examples,
      'sample_rows': len(next(iter(base.values()))),
      'label_positive_fraction': float(np.mean(columns[datadefs.load('taxi').label_key])),
      'transform_seconds': transform_seconds,
      'generation_seconds': time.perf_counter() - start,
  }
  Path(out_dir, _META).write_text(json.dumps(meta, indent=2))


def _transform_sample(config: DataConfig, transform_graph_dir: str,
                      temp_dir: str) -> Dict[str, np.ndarray]:
  """Runs preprocessing_fn over the sample; writes the TFT output, returns its columns."""
  # Beam is needed only when data is made, so it is imported here.
  import apache_beam as beam  # pylint: disable=import-outside-toplevel
  import tensorflow_data_validation as tfdv  # pylint: disable=import-outside-toplevel
  import tensorflow_transform.beam as tft_beam  # pylint: disable=import-outside-toplevel
  from tfx_bsl.public import tfxio  # pylint: disable=import-outside-toplevel

  from transform import preprocessing  # pylint: disable=import-outside-toplevel

  lines = Path(config.source_csv).read_bytes().splitlines()
  header, rows = lines[0].decode(), lines[1:]
  source = tfxio.BeamRecordCsvTFXIO(
      physical_format='text', column_names=header.split(','),
      schema=tfdv.load_schema_text(config.raw_schema_path), telemetry_descriptors=['bench'])
  columns_path = os.path.join(temp_dir, 'columns.npz')
  os.makedirs(temp_dir, exist_ok=True)
  options = beam.options.pipeline_options.PipelineOptions(
      list(LOCAL_BEAM_ARGS))
  with beam.Pipeline(options=options) as pipeline, tft_beam.Context(temp_dir=temp_dir):
    raw = pipeline | 'Rows' >> beam.Create(rows) | 'Decode' >> source.BeamSource()
    (transformed, _), transform_fn = (
        (raw, source.TensorAdapterConfig())
        | tft_beam.AnalyzeAndTransformDataset(functools.partial(preprocessing.preprocessing_fn, custom_config=datadefs.load('taxi').to_custom_config()),
                                              output_record_batches=True))
    _ = transform_fn | tft_beam.WriteTransformFn(transform_graph_dir)
    _ = (transformed
         | 'Batches' >> beam.Map(lambda batch_and_passthrough: batch_and_passthrough[0])
         | 'All' >> beam.combiners.ToList()
         | 'Save' >> beam.Map(_save_columns, columns_path))
  with np.load(columns_path) as loaded:
    return {name: loaded[name] for name in loaded.files}


def _save_columns(record_batches, path: str) -> None:
  table = pa.Table.from_batches(record_batches)
  columns = {}
  for name in table.column_names:
    lists = table.column(name).combine_chunks()
    values = lists.flatten().to_numpy(zero_copy_only=False)
    if len(values) != table.num_rows:
      raise ValueError(f'transformed feature {name} is not one value per row: '
                       f'{len(values)} values for {table.num_rows} rows')
    columns[name] = values
  np.savez(path, **columns)


def scale_columns(base: Dict[str, np.ndarray], examples: int, seed: int,
                  float_jitter: float) -> Dict[str, np.ndarray]:
  """Resamples `examples` rows of `base` (with replacement) and jitters the float columns."""
  rng = np.random.default_rng(seed)
  num_rows = len(next(iter(base.values())))
  rows = rng.integers(0, num_rows, size=examples)
  columns = {}
  # Sorted so the random stream is consumed in the same order whatever the dict order.
  for name in sorted(base):
    values = base[name][rows]
    if np.issubdtype(values.dtype, np.floating):
      values = values + rng.normal(0.0, float_jitter, size=examples).astype(values.dtype)
    columns[name] = values
  return columns


def _write_shards(columns: Dict[str, np.ndarray], split_dir: str, num_shards: int,
                  schema) -> List[int]:
  """Writes contiguous row ranges as shards; returns the number of examples in each."""
  os.makedirs(split_dir)
  encoder = example_coder.RecordBatchToExamplesEncoder(schema)
  total = len(next(iter(columns.values())))
  bounds = np.linspace(0, total, num_shards + 1).astype(int)
  for shard in range(num_shards):
    begin, end = bounds[shard], bounds[shard + 1]
    offsets = pa.array(np.arange(end - begin + 1, dtype=np.int32))
    batch = pa.RecordBatch.from_arrays(
        [pa.ListArray.from_arrays(offsets, pa.array(values[begin:end]))
         for values in columns.values()],
        list(columns))
    path = os.path.join(split_dir,
                        f'transformed_examples-{shard:05d}-of-{num_shards:05d}.gz')
    with tf.io.TFRecordWriter(path, options='GZIP') as writer:
      for record in encoder.encode(batch):
        writer.write(record)
  return [int(end - begin) for begin, end in zip(bounds[:-1], bounds[1:])]
