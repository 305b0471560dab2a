"""End to end: `make run` from an empty pipeline home against TFX's own
`taxi_pipeline_native_keras.py` (unmodified, from the installed tfx package, in a fresh HOME),
one after the other on the same embedded data; wall seconds and eval accuracy of each, our
per-component seconds, and the ratio (ours / TFX's; the target is <= 0.6).

  python -m bench.e2e [--skip-tfx]      (`make bench-e2e`; writes bench/results/e2e.json)
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench
import datadefs
from core.home import PipelineHome

_RESULTS = Path(__file__).resolve().parent / 'results' / 'e2e.json'
_REPO = Path(__file__).resolve().parents[1]
_EXAMPLE = Path(datadefs.data_root(datadefs.load("taxi"))).parents[1]  # tfx/examples/chicago_taxi_pipeline


def run_tfx_example(workdir: Path, data_root: str = datadefs.data_root(datadefs.load("taxi"))) -> dict:
  """TFX's example as its README says: data and module file under $HOME/taxi."""
  home = workdir / 'tfx_home'
  taxi = home / 'taxi'
  shutil.copytree(data_root, taxi / 'data' / 'simple')
  shutil.copy(_EXAMPLE / 'taxi_utils_native_keras.py', taxi)
  env = dict(os.environ, HOME=str(home), TF_USE_LEGACY_KERAS='1', TF_CPP_MIN_LOG_LEVEL='2')
  started = time.monotonic()
  result, peak_rss = bench.run_measured(
      [sys.executable, str(_EXAMPLE / 'taxi_pipeline_native_keras.py')], cwd=home, env=env)
  seconds = time.monotonic() - started
  if result.returncode != 0:
    raise RuntimeError(f'TFX example failed:\n{result.stderr[-3000:]}')
  evaluations = sorted((home / 'tfx' / 'pipelines').glob('*/Evaluator/evaluation/*'))
  from runs.summary import eval_metrics as read_eval_metrics  # pylint: disable=import-outside-toplevel
  metrics = read_eval_metrics(str(evaluations[-1]))
  return {'seconds': round(seconds, 1), 'binary_accuracy': metrics.get('binary_accuracy'),
          'peak_rss_gib': peak_rss,
          'command': 'python taxi_pipeline_native_keras.py (HOME with taxi/data/simple)'}


def run_ours(workdir: Path, data_root: str = None, dataset: str = None) -> dict:
  """`make run` in a new pipeline home under workdir (the taxi data unless told otherwise)."""
  home = workdir / 'pipeline_home'
  env = dict(os.environ, PIPELINE_HOME=str(home))
  env.pop('DATA_ROOT', None)
  env.pop('DATASET', None)
  if data_root:
    env['DATA_ROOT'] = str(data_root)
  if dataset:
    env['DATASET'] = dataset
  started = time.monotonic()
  result, peak_rss = bench.run_measured([sys.executable, '-m', 'pipeline', 'run'], cwd=_REPO,
                                        env=env)
  seconds = time.monotonic() - started
  summary = json.loads(PipelineHome(home).last_run.read_text())
  if result.returncode != 0:
    raise RuntimeError(f'make run failed: {summary["error"]}')
  return {'seconds': round(seconds, 1),
          'binary_accuracy': summary['metrics'].get('binary_accuracy'),
          'metrics': summary['metrics'],
          'components': {c['name']: c['seconds'] for c in summary['components']},
          'peak_rss_gib': peak_rss,
          'command': 'python -m pipeline run (make run), empty PIPELINE_HOME'}


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--skip-tfx', action='store_true', help='only time our pipeline')
  args = parser.parse_args(argv)
  with tempfile.TemporaryDirectory(prefix='bench-e2e-') as workdir:
    tfx_example = None if args.skip_tfx else run_tfx_example(Path(workdir))
    ours = run_ours(Path(workdir))
  result = {'tfx_example': tfx_example, 'ours': ours,
            'load_average_after': os.getloadavg(),
            'ratio': round(ours['seconds'] / tfx_example['seconds'], 3) if tfx_example else None}
  bench.write_results(_RESULTS, result)
  return 0


if __name__ == '__main__':
  sys.exit(main())
