"""CSV ingest, end to end: TFX's CsvExampleGen executor, the pipeline's sharded one, and
TypedCsvExampleGen's, each run through its Do on the local DirectRunner, in memory (1 worker)
and multi_processing (2 workers), on the embedded taxi CSV scaled to --rows rows.

The CSV is the sample's data lines resampled with bench.data.scale_columns and the benchmark's
fixed seed (no jitter: every line is a real sample line), made once under bench/data/. Each run
is timed from Do's call to its return (Beam start-up, worker start-up and the sharded
executors' rewrite included; imports not) and its output counted per split.

  python -m bench.csv_ingest --rows 150000 [--variants typed,tfx,sharded]
      [--modes in_memory,multi_processing]     (adds to bench/results/csv_ingest.json)
"""

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

# pylint: disable=wrong-import-position
import numpy as np
import tensorflow as tf
from tfx.components.example_gen.csv_example_gen import executor as csv_executor
from tfx.dsl.components.base import base_beam_executor
from tfx.types import standard_artifacts

import bench
from bench import data as data_lib
from bench import report
from core import example_files
from components import sharded_executors
from core.example_files import ExampleFilesConfig
from components.typed_csv_example_gen import TypedCsvExampleGen
from components.typed_csv_example_gen import TypedCsvExampleGenExecutor
import datadefs
from pipeline import graph
# pylint: enable=wrong-import-position

_RESULTS = Path(__file__).resolve().parent / 'results' / 'csv_ingest.json'
_DATA_DIR = Path(data_lib.DEFAULT_DATA_DIR) / 'csv_ingest'
# name -> (executor class, what it is)
VARIANTS = {
    'tfx': (csv_executor.Executor,
            "TFX CsvExampleGen's executor (one GZIP file per split on the DirectRunner)"),
    'sharded': (sharded_executors.ShardedCsvExampleGenExecutor,
                'the pipeline today: CsvExampleGen, then rewritten to 8 GZIP shards per split'),
    'typed': (TypedCsvExampleGenExecutor, 'TypedCsvExampleGen: pyarrow, 8 GZIP shards per split'),
}
MODES = {
    'in_memory': ['--direct_running_mode=in_memory', '--direct_num_workers=1'],
    'multi_processing': ['--direct_running_mode=multi_processing', '--direct_num_workers=2'],
}


def make_csv(rows: int, seed: int = data_lib.DataConfig().seed) -> Path:
  """The sample's data lines resampled to `rows` lines (made once, then reused)."""
  folder = _DATA_DIR / f'{rows}-{seed}'
  path = folder / 'data.csv'
  if not path.exists():
    source = Path(data_lib.DataConfig().source_csv).read_bytes().splitlines()
    lines = np.array(source[1:], dtype=object)
    scaled = data_lib.scale_columns({'line': lines}, rows, seed, float_jitter=0.0)['line']
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / 'data.csv.partial'
    with partial.open('wb') as f:
      f.write(source[0] + b'\n')
      f.write(b'\n'.join(scaled) + b'\n')
    os.replace(partial, path)
  return path


def run_once(variant: str, mode: str, data_root: Path, work: Path) -> Dict[str, object]:
  executor_class, _ = VARIANTS[variant]
  component = TypedCsvExampleGen(
      input_base=str(data_root), column_types=datadefs.load('taxi').column_types,
      output_config=graph.example_gen_output_config(),
      custom_config=sharded_executors.example_gen_custom_config(ExampleFilesConfig()))
  properties = {key: value for key, value in component.exec_properties.items()
                if value is not None}
  if variant == 'tfx':
    del properties['custom_config']  # The sharded executor hides it from the stock Do itself.
  artifact = standard_artifacts.Examples()
  artifact.uri = str(work / 'examples')
  executor = executor_class(base_beam_executor.BaseBeamExecutor.Context(
      beam_pipeline_args=MODES[mode], tmp_dir=str(work / 'tmp')))
  load = os.getloadavg()[0]
  start = time.perf_counter()
  executor.Do({}, {'examples': [artifact]}, properties)
  seconds = time.perf_counter() - start
  counts, files = {}, {}
  for split in ('train', 'eval'):
    paths = sorted(glob.glob(os.path.join(artifact.uri, f'Split-{split}', '*')))
    files[split] = len(paths)
    counts[split] = sum(1 for path in paths for _ in tf.data.TFRecordDataset(
        path, example_files.tf_compression_type(path)))
  return {'variant': variant, 'mode': mode, 'seconds': round(seconds, 2),
          'rows_per_s': round((counts['train'] + counts['eval']) / seconds),
          'examples': counts, 'files_per_split': files,
          'load_average_1m_at_start': round(load, 2)}


def main(argv: List[str] = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--rows', type=int, default=150_000)
  parser.add_argument('--variants', default='typed,tfx,sharded')
  parser.add_argument('--modes', default='in_memory,multi_processing')
  args = parser.parse_args(argv)
  variants, modes = args.variants.split(','), args.modes.split(',')
  unknown = sorted(set(variants) - set(VARIANTS)) + sorted(set(modes) - set(MODES))
  if args.rows < 1 or unknown:
    parser.error(f'--rows must be >= 1 and variants in {sorted(VARIANTS)}, modes in '
                 f'{sorted(MODES)}; got rows={args.rows}, unknown {unknown}')
  csv_path = make_csv(args.rows)
  results = []
  for variant in variants:
    for mode in modes:
      work = Path(tempfile.mkdtemp(prefix='csv_ingest-'))
      try:
        result = run_once(variant, mode, csv_path.parent, work)
      finally:
        shutil.rmtree(work, ignore_errors=True)
      total = sum(result['examples'].values())
      if total != args.rows:
        raise RuntimeError(f'{variant} {mode} wrote {total} examples for {args.rows} rows')
      print(f"{variant:8} {mode:16} {result['seconds']:8.1f} s {result['rows_per_s']:>9,} "
            f"rows/s  train/eval {result['examples']['train']}/{result['examples']['eval']}  "
            f"files {result['files_per_split']}", flush=True)
      results.append(result)
  document = json.loads(_RESULTS.read_text()) if _RESULTS.exists() else {}
  document.setdefault('runs', {})[str(args.rows)] = {
      'machine': report.machine_info(),
      'note': 'measured on a shared 2-core machine other engineers were using at the same '
              'time: absolute times are noisy, the load average at each start is recorded',
      'rows': args.rows, 'csv_bytes': csv_path.stat().st_size,
      'variants': {name: description for name, (_, description) in VARIANTS.items()},
      'results': results}
  bench.write_results(_RESULTS, document)
  print(f'wrote {_RESULTS}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
