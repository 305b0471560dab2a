"""Times `dataset init`'s baseline step (datadefs/tabular/baseline.py measure) on a generated
table of ROWS rows (6 numbers, a category, a binary label), after the imports, twice:

    .venv/bin/python tools/time_baseline.py [ROWS]      # default 20000

Prints each time with the naive and GBM accuracies. The CSV is written to a temporary folder.
"""

import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main(rows: int) -> None:
  # pylint: disable=import-outside-toplevel; what init has imported by then, before the clock
  import sklearn.ensemble  # pylint: disable=unused-import
  import tensorflow  # pylint: disable=unused-import
  from tfx.components.example_gen import base_example_gen_executor  # pylint: disable=unused-import
  from datadefs.definition import parse
  from datadefs.tabular import baseline
  generator = np.random.default_rng(0)
  numbers = generator.uniform(-1, 1, (rows, 6))
  category = generator.choice(list('abcdefgh'), rows)
  label = (numbers[:, 0] * numbers[:, 1] + 0.3 * (category == 'a') +
           0.1 * generator.normal(size=rows) > 0).astype(int)
  columns = {f'x{index}': {'type': 'float', 'role': 'numeric'} for index in range(6)}
  dataset = parse({'name': 'timed', 'task': 'binary', 'blessing_threshold': 0.5,
                   'label': {'column': 'y'}, 'columns': {
                       **columns, 'c': {'type': 'string', 'role': 'vocabulary'}, 'y': 'int'}},
                  'generated')
  with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / 'table.csv'
    with path.open('w', newline='') as f:
      writer = csv.writer(f)
      writer.writerow([*columns, 'c', 'y'])
      writer.writerows([[*row, name, value] for row, name, value in
                        zip(numbers.tolist(), category, label)])
    for _ in range(2):
      start = time.perf_counter()
      scores = baseline.measure(dataset, str(path))
      print(f'{rows} rows: {time.perf_counter() - start:.2f} s (naive {scores.naive:.4f}, '
            f'gbm {scores.gbm:.4f})')


if __name__ == '__main__':
  main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
