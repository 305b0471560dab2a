"""End to end on images: `make run DATASET=digits` from an empty pipeline home against the same
images through a pipeline laid out as TFX's CIFAR-10 example (bench/cifar10_layout.py: decode
and resize in the preprocessing_fn, float examples, a float serving input), one after the
other in one sitting, with the same model, batch size and steps. Records each one's wall
seconds, bytes written (every file under its pipeline root, and per component), eval accuracy
on the same eval split, and the ratios (ours / the CIFAR-10 layout's).

  python -m bench.images_e2e     (`make bench-images-e2e`; writes bench/results/images_e2e.json)
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict

import bench
import datadefs
from bench import e2e
from bench.cifar10_layout import ACCURACY_FILE
from core.home import PipelineHome

_RESULTS = Path(__file__).resolve().parent / 'results' / 'images_e2e.json'
_REPO = Path(__file__).resolve().parents[1]


def bytes_under(root: Path) -> Dict[str, int]:
  """Bytes of every file under a pipeline root, by component and output (their folders, e.g.
  'Trainer/model'), and 'total'."""
  sizes: Dict[str, int] = {}
  for path in root.rglob('*'):
    if path.is_file():
      output = '/'.join(path.relative_to(root).parts[:2])
      sizes[output] = sizes.get(output, 0) + path.stat().st_size
  sizes = dict(sorted(sizes.items()))
  sizes['total'] = sum(sizes.values())
  return sizes


def examples_of(pipeline_root: Path) -> Path:
  """Our ImageExampleGen's examples artifact: the folder holding Split-train and Split-eval."""
  [examples] = [path.parent for path in pipeline_root.glob('ImageExampleGen/examples/*/Split-eval')]
  return examples


def run_cifar10_layout(workdir: Path, examples: Path, train_steps: int, metric: str) -> dict:
  root = workdir / 'cifar10_layout'
  env = dict(os.environ, PYTHONPATH=str(_REPO), TF_CPP_MIN_LOG_LEVEL='2')
  started = time.monotonic()
  result, peak_rss = bench.run_measured(
      [sys.executable, '-m', 'bench.cifar10_layout', '--examples', str(examples),
       '--root', str(root), '--train-steps', str(train_steps)], cwd=_REPO, env=env)
  seconds = time.monotonic() - started
  if result.returncode != 0:
    raise RuntimeError(f'the CIFAR-10 layout pipeline failed:\n{result.stderr[-3000:]}')
  pipeline_root = root / 'pipeline_root'
  [accuracy_file] = pipeline_root.glob(f'Trainer/model_run/*/{ACCURACY_FILE}')
  return {'seconds': round(seconds, 1),
          'accuracy': json.loads(accuracy_file.read_text())[metric],
          'bytes': bytes_under(pipeline_root),
          'peak_rss_gib': peak_rss,
          'command': 'python -m bench.cifar10_layout --examples <ours> --root <dir>'}


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--dataset', default='digits', help='a bundled image dataset')
  args = parser.parse_args(argv)
  dataset = datadefs.load(args.dataset)
  # The blessing's metric (an accuracy), as both pipelines' Keras models name it.
  steps, metric = dataset.train_steps, dataset.task_kind.blessing_metric
  with tempfile.TemporaryDirectory(prefix='bench-images-e2e-') as workdir:
    ours = e2e.run_ours(Path(workdir), dataset=args.dataset)
    root = PipelineHome(Path(workdir) / 'pipeline_home').pipeline_root
    ours['accuracy'] = ours.pop('metrics')[metric]
    ours['bytes'] = bytes_under(root)
    del ours['binary_accuracy']
    cifar10_layout = run_cifar10_layout(Path(workdir), examples_of(root), steps, metric)
  result = {
      'dataset': args.dataset, 'train_steps': steps, 'ours': ours,
      'cifar10_layout': cifar10_layout,
      'seconds_ratio': round(ours['seconds'] / cifar10_layout['seconds'], 3),
      'bytes_ratio': round(ours['bytes']['total'] / cifar10_layout['bytes']['total'], 3),
      'load_average_after': os.getloadavg()}
  bench.write_results(_RESULTS, result)
  return 0


if __name__ == '__main__':
  sys.exit(main())
