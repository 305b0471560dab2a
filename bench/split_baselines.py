"""The naive baseline and a default gradient-boosted model on a finished regression run's own
split: the ExampleGen's train and eval examples (rows without a label already left out), with
and without the date columns' years:

    python -m bench.split_baselines --home <pipeline home> --dataset <dataset folder>

Prints the eval RMSE of predicting the train mean, and of scikit-learn's
GradientBoostingRegressor (defaults, missing numbers filled with the train median) over the
definition's numeric, integer-id and date columns (a date as its year) and its vocabulary columns
as ordinal codes learnt on train; then the same without the date columns. For
docs/measurements.md, beside the pipeline's own RMSE.
"""

import argparse
import glob
import math
import os
from typing import Dict, List, Tuple

import numpy as np
import tensorflow as tf

import datadefs


def _examples(home: str, split: str) -> List[tf.train.Example]:
  found = sorted(glob.glob(os.path.join(home, 'pipeline_root', 'CsvExampleGen', 'examples', '*',
                                        f'Split-{split}', '*')))
  return [tf.train.Example.FromString(record.numpy()) for path in found for record in
          tf.data.TFRecordDataset(path, 'GZIP' if path.endswith('.gz') else '')]


def _value(example: tf.train.Example, name: str):
  feature = example.features.feature[name]
  values = getattr(feature, feature.WhichOneof('kind')).value
  return values[0] if len(values) else None


def _table(examples, dataset, with_dates: bool) -> Tuple[np.ndarray, np.ndarray, List[str]]:
  columns = [c for c in dataset.features() if with_dates or c.role != 'date']
  rows, labels = [], []
  for example in examples:
    row = []
    for column in columns:
      value = _value(example, column.name)
      if column.role == 'date' and value is not None:
        value = float(value[:4]) if isinstance(value, bytes) else (
            1970 + float(value) / (365.2425 * 86400))
      row.append(value)
    rows.append(row)
    labels.append(float(_value(example, dataset.label.column)))
  return rows, np.array(labels), [c.name for c in columns]


def _encode(train_rows, eval_rows) -> Tuple[np.ndarray, np.ndarray]:
  """Numbers as they are, texts as ordinal codes learnt on train, missing as the train median."""
  codes: Dict[int, Dict[bytes, int]] = {}
  for index in range(len(train_rows[0])):
    texts = sorted({row[index] for row in train_rows if isinstance(row[index], bytes)})
    if texts:
      codes[index] = {text: code for code, text in enumerate(texts)}

  def numbers(rows):
    return np.array([[codes[i].get(v, -1) if i in codes and v is not None else
                      (np.nan if v is None else float(v)) for i, v in enumerate(row)]
                     for row in rows], dtype=float)

  train, evaluation = numbers(train_rows), numbers(eval_rows)
  medians = np.nanmedian(train, axis=0)
  for matrix in (train, evaluation):
    where = np.isnan(matrix)
    matrix[where] = np.take(medians, np.nonzero(where)[1])
  return train, evaluation


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--home', required=True)
  parser.add_argument('--dataset', required=True)
  args = parser.parse_args()
  from sklearn.ensemble import GradientBoostingRegressor  # pylint: disable=import-outside-toplevel
  dataset = datadefs.load(args.dataset)
  train, evaluation = _examples(args.home, 'train'), _examples(args.home, 'eval')
  print(f'{len(train)} train and {len(evaluation)} eval examples')
  for with_dates in (True, False):
    train_rows, train_labels, names = _table(train, dataset, with_dates)
    eval_rows, eval_labels, _ = _table(evaluation, dataset, with_dates)
    x_train, x_eval = _encode(train_rows, eval_rows)
    naive = math.sqrt(np.mean((eval_labels - train_labels.mean()) ** 2))
    model = GradientBoostingRegressor(random_state=0).fit(x_train, train_labels)
    gbm = math.sqrt(np.mean((eval_labels - model.predict(x_eval)) ** 2))
    print(f'{"with" if with_dates else "without"} the date columns ({", ".join(names)}): '
          f'eval RMSE naive (train mean) {naive:.3f}, default GradientBoostingRegressor '
          f'{gbm:.3f}')


if __name__ == '__main__':
  main()
