"""Bar chart of the benchmark results: input-only and fit throughput per variant (log scale)."""

from typing import Dict

import matplotlib

matplotlib.use('Agg')  # Files only: no display on the machines that run the benchmark.
import matplotlib.pyplot as plt  # pylint: disable=wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position

_METRICS = (('input_ex_per_s', 'input-only'), ('fit_ex_per_s', 'fit'))


def plot(results: Dict[str, object], path: str) -> None:
  """Writes a horizontal grouped bar chart of `results['variants']` to `path` (PNG)."""
  variants = results['variants']
  names = list(variants)
  positions = np.arange(len(names))
  height = 0.38
  fig, ax = plt.subplots(figsize=(10, 1.0 + 0.55 * len(names)))
  for offset, (metric, label) in zip((-height / 2, height / 2), _METRICS):
    values = [variants[name][metric] for name in names]
    bars = ax.barh(positions + offset, values, height, label=label)
    for bar, value in zip(bars, values):
      ax.text(bar.get_width() * 1.05, bar.get_y() + bar.get_height() / 2, f'{value:,.0f}',
              va='center', fontsize=7)
  best = results.get('keras_sequence_best')
  labels = [f'{name} (= {best})' if name == 'keras_sequence' and best else name for name in names]
  ax.set_yticks(positions, labels=labels)
  ax.invert_yaxis()  # Report order, top to bottom.
  # Throughputs span orders of magnitude (Python readers vs tf.data vs the ceiling).
  ax.set_xscale('log')
  rates = [variants[name][metric] for name in names for metric, _ in _METRICS]
  ax.set_xlim(min(rates) / 2, max(rates) * 4)
  ax.set_xlabel('examples / second (log scale)')
  ax.set_title(f"Trainer input pipelines: {results['examples']:,} examples, batch "
               f"{results['batch_size']}, median of {results['protocol']['repeats']} repeats")
  ax.legend(loc='lower right')
  ax.grid(axis='x', which='both', alpha=0.3)
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)
