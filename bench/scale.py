"""The whole local pipeline at growing row counts: `make run` (from an empty pipeline home) on the
embedded taxi CSV scaled to each size, and optionally TFX's `taxi_pipeline_native_keras.py` on
the same rows; wall seconds, seconds per component, peak RSS (of the largest process), eval
accuracy, and the exponent of time against rows.

Rows are the sample's data lines resampled with bench.data's fixed seed (bench/csv_ingest.py
make_csv; 15,000 is the embedded sample itself, file for file). The exponent is the slope of
log(seconds) against log(rows) between the two largest sizes: 1.0 is linear.

  python -m bench.scale [--rows 15000,150000,1500000] [--with-tfx]
      (`make bench-scale`; writes bench/results/scale.json and scale.png)
"""

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

import bench
from bench import csv_ingest
from bench import e2e
import datadefs

_RESULTS = Path(__file__).resolve().parent / 'results' / 'scale.json'
_EMBEDDED_ROWS = 15_000  # Names the sample itself (15,002 data lines), used as it is.


def data_root(rows: int) -> str:
  if rows == _EMBEDDED_ROWS:
    return datadefs.data_root(datadefs.load("taxi"))
  return str(csv_ingest.make_csv(rows).parent)


def exponent(runs: Dict[str, dict], key: str) -> float:
  """Slope of log(seconds) over log(rows) between the two largest sizes."""
  sizes = sorted(int(rows) for rows in runs if runs[rows].get(key))
  if len(sizes) < 2:
    return None
  small, large = sizes[-2], sizes[-1]
  return round(math.log(runs[str(large)][key]['seconds'] / runs[str(small)][key]['seconds']) /
               math.log(large / small), 3)


def plot(runs: Dict[str, dict], path: Path) -> None:
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  sizes = sorted(int(rows) for rows in runs)
  fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
  for key, label in (('ours', 'make run'), ('tfx_example', "TFX's taxi_pipeline_native_keras")):
    points = [(rows, runs[str(rows)][key]['seconds']) for rows in sizes if runs[str(rows)].get(key)]
    if points:
      left.plot(*zip(*points), marker='o', label=label)
  left.set(xscale='log', yscale='log', xlabel='rows', ylabel='wall seconds',
           title='Whole pipeline, from an empty home')
  left.legend()
  left.grid(which='both', alpha=0.3)
  largest = runs[str(sizes[-1])]['ours']['components']
  # Components of at least 1 s at the largest size; the rest are resolvers and gates.
  components = [name for name, seconds in largest.items() if seconds >= 1.0]
  colors = plt.get_cmap('tab10').colors
  bottom = [0.0] * len(sizes)
  for index, name in enumerate(components):
    values = [runs[str(rows)]['ours']['components'].get(name, 0.0) for rows in sizes]
    right.bar([f'{rows:,}' for rows in sizes], values, bottom=bottom, label=name,
              color=colors[index % len(colors)])
    bottom = [b + v for b, v in zip(bottom, values)]
  right.set(xlabel='rows', ylabel='seconds', title='make run: seconds per component')
  right.legend(fontsize=7, ncol=2)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def main(argv: List[str] = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--rows', default='15000,150000,1500000')
  parser.add_argument('--with-tfx', action='store_true',
                      help="also run TFX's example on the same rows (about as long again)")
  args = parser.parse_args(argv)
  try:
    sizes = [int(text) for text in args.rows.split(',')]
  except ValueError:
    parser.error(f'--rows must be whole numbers separated by commas, got {args.rows!r}')
  runs = {}
  for rows in sizes:
    root = data_root(rows)
    with tempfile.TemporaryDirectory(prefix=f'bench-scale-{rows}-') as workdir:
      run = {'ours': e2e.run_ours(Path(workdir), root)}
      if args.with_tfx:
        run['tfx_example'] = e2e.run_tfx_example(Path(workdir), root)
    runs[str(rows)] = run
    print(f'{rows:>10,} rows: ours {run["ours"]["seconds"]} s, peak '
          f'{run["ours"]["peak_rss_gib"]} GiB' + (
              f'; TFX example {run["tfx_example"]["seconds"]} s' if args.with_tfx else ''),
          flush=True)
  result = {'command': 'python -m bench.scale ' + ' '.join(argv or sys.argv[1:]),
            'load_average_after': os.getloadavg(), 'runs': runs,
            'exponent': exponent(runs, 'ours'),
            'exponent_tfx_example': exponent(runs, 'tfx_example')}
  largest = runs[str(max(sizes))]
  if largest.get('tfx_example'):
    result['ratio_at_largest'] = round(
        largest['ours']['seconds'] / largest['tfx_example']['seconds'], 3)
  plot(runs, _RESULTS.with_suffix('.png'))
  bench.write_results(_RESULTS, result)
  return 0


if __name__ == '__main__':
  sys.exit(main())
