"""Measures a tabular dataset's baseline (its `[baseline]` table, datadefs/baseline_scores.py):
a sample of its CSV, read and split exactly as the pipeline's ExampleGen reads and splits it
(datadefs/tabular/csv_files.py, examples.py, splits.py), labelled by the task's own label rule
(the TF ops the Transform graph runs), then two models fit on the train part and scored on the
eval part with the task's blessing metric:
- naive: the train part's majority class, or its mean (datadefs/tasks.py);
- gbm: scikit-learn's HistGradientBoostingClassifier/Regressor with its defaults (which handle
  missing values), categorical columns as categories.
A row without a label, or with a class the definition does not list, is left out and counted.
"""

import datetime
import glob
import os
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import pyarrow as pa
import threadpoolctl

from datadefs import baseline_scores
from datadefs import label_expression
from datadefs.definition import Column, Dataset
from datadefs.tabular import csv_files, examples, splits
from datadefs.tabular import inference
from datadefs.tabular.inference import SAMPLE_ROWS
from datadefs.task_values import BaselineScores

SEED = 0
# scikit-learn's histogram GBM takes a category feature of at most this many values (max_bins);
# a column with more is given to it as the order of its values.
MAX_CATEGORIES = 255
_CATEGORY_ROLES = ('vocabulary', 'integer_id')


class BaselineError(ValueError):
  """The sample cannot give a baseline (too few labelled rows in a split); the message says
  why."""


def measure(dataset: Dataset, csv_path: str, max_rows: int = SAMPLE_ROWS) -> BaselineScores:
  """The baseline of the first `max_rows` rows of `csv_path` (a CSV of `dataset`)."""
  batch = _sample(dataset, csv_path, max_rows)
  split = splits.split_indices(examples.serialize_examples(batch, dataset.column_types))
  labels, labelled = _labels(dataset, batch)
  train = labelled & (split == splits.SPLIT_NAMES.index('train'))
  evaluate = labelled & (split == splits.SPLIT_NAMES.index('eval'))
  if train.sum() < 2 or evaluate.sum() < 1:
    raise BaselineError(f'{csv_path}: {labelled.sum()} labelled rows of {batch.num_rows} split '
                        f'into {train.sum()} train and {evaluate.sum()} eval rows: too few to '
                        'score a baseline on')
  task = dataset.task_kind
  naive = task.score(labels[evaluate], task.naive_predictions(labels[train], evaluate.sum()))
  features, categorical = _features(dataset, batch)
  gbm, gbm_note = None, ''
  if len(np.unique(labels[train])) < 2:
    gbm_note = '; no GBM: the train part has one label value'
  else:
    # One OpenMP thread: on a shared machine, scikit-learn's threads waiting on each other made
    # the fit ~10x slower (15 s against 1.4 s on taxi's 15k rows at load 8 on 2 cores).
    with threadpoolctl.threadpool_limits(limits=1, user_api='openmp'):
      model = task.default_gbm(categorical, SEED).fit(features[train], labels[train])
    gbm = task.score(labels[evaluate], model.predict(features[evaluate]))
  left_out = batch.num_rows - int(labelled.sum())
  why = ' or with a class the definition does not list' if dataset.label.classes else ''
  import sklearn  # pylint: disable=import-outside-toplevel; its version, for `how`
  how = (f'first {batch.num_rows} rows of {os.path.basename(csv_path)}'
         f'{f" ({left_out} without a label{why} left out)" if left_out else ""}, split as the '
         f'ExampleGen splits them; fit on {int(train.sum())} train rows, scored on '
         f'{int(evaluate.sum())} eval rows; naive: the train part\'s '
         f'{"mean" if not task.higher_is_better else "majority class"}; gbm: scikit-learn '
         f'{sklearn.__version__} HistGradientBoosting, defaults{gbm_note}')
  return BaselineScores(metric=task.blessing_metric, naive=round(naive, 6),
                        gbm=None if gbm is None else round(gbm, 6),
                        rows=int(labelled.sum()), eval_rows=int(evaluate.sum()), how=how)


def _sample(dataset: Dataset, csv_path: str, max_rows: int) -> pa.RecordBatch:
  batches: List[pa.RecordBatch] = []
  rows = 0
  for batch in csv_files.read_batches(csv_path, dataset.column_types, dataset.missing_values,
                                      label=dataset.label.column):
    batches.append(batch)
    rows += batch.num_rows
    if rows >= max_rows:
      break
  table = pa.Table.from_batches(batches).slice(0, max_rows).combine_chunks()
  if table.num_rows == 0:
    raise BaselineError(f'{csv_path} has no rows: a baseline needs a sample of the data')
  return table.to_batches()[0]


def _labels(dataset: Dataset, batch: pa.RecordBatch) -> Tuple[np.ndarray, np.ndarray]:
  """(each row's transformed label, whether the row has one): the task's label rule as the
  Transform graph runs it, on rows the ExampleGen keeps (every column the label needs present)."""
  os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
  import tensorflow as tf  # pylint: disable=import-outside-toplevel; the label rule is TF ops
  label = dataset.label
  labelled = np.ones(batch.num_rows, bool)
  for name in label.required_columns:
    labelled &= batch.column(name).is_valid().to_numpy(zero_copy_only=False)
  if label.expression:
    # A missing input of a kept row counts as 0 (missing_inputs = "zero"), as in Transform.
    values = {name: tf.constant(_numbers(batch.column(name)).astype(np.float32))
              for name in label_expression.columns_of(label.expression)}
    value = label_expression.evaluate(label.expression, {
        name: tf.where(tf.math.is_nan(tensor), tf.zeros_like(tensor), tensor)
        for name, tensor in values.items()}, tf)
  else:
    column = batch.column(label.column)
    value = tf.constant(column.fill_null('' if pa.types.is_string(column.type) else 0)
                        .to_numpy(zero_copy_only=False))
  ids = dataset.task_kind.label(value, label.classes).numpy()
  if ids.dtype.kind == 'i':
    labelled &= ids >= 0  # A class the definition does not list.
  return ids, labelled


def _numbers(column: pa.Array) -> np.ndarray:
  return column.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)


def _features(dataset: Dataset, batch: pa.RecordBatch) -> Tuple[np.ndarray, List[bool]]:
  """(rows x features matrix with NaN for missing, which features are categories)."""
  columns: List[np.ndarray] = []
  categorical: List[bool] = []
  for column in dataset.features():
    values, is_category = _feature(column, batch.column(column.name))
    columns.append(values)
    categorical.append(is_category)
  return np.column_stack(columns), categorical


def _feature(column: Column, values: pa.Array) -> Tuple[np.ndarray, bool]:
  if column.role == 'date':
    return _date_seconds(column, values), False
  if column.role not in _CATEGORY_ROLES and column.type != 'string':
    return _numbers(values), False
  codes: Dict[Optional[object], int] = {}
  # Categories by first appearance: their ids carry no order the model could misread.
  texts = values.to_pylist()
  for text in texts:
    if text is not None and text not in codes:
      codes[text] = len(codes)
  coded = np.array([np.nan if text is None else codes[text] for text in texts], np.float64)
  return coded, len(codes) <= MAX_CATEGORIES


def _date_seconds(column: Column, values: pa.Array) -> np.ndarray:
  """Seconds since 1970 of a date column (whole seconds already, or year-first text; a text that
  is no date is missing)."""
  if column.type == 'int':
    return _numbers(values)
  seconds = []
  for text in values.to_pylist():
    try:
      found = inference.moment(text) if text is not None else None
    except ValueError:
      found = None
    if found is not None and found.tzinfo is None:
      found = found.replace(tzinfo=datetime.timezone.utc)
    seconds.append(np.nan if found is None else found.timestamp())
  return np.array(seconds, np.float64)


def rewrite(definition: str, csv_path: Optional[str] = None,
            say: Callable[[str], None] = print) -> BaselineScores:
  """`python -m pipeline dataset baseline DIR [--csv FILE]`: measures the baseline of a tabular
  definition (a bundled name or a folder) on `csv_path`, else on the first file of its own
  data, and writes it as the definition's `[baseline]` table, in place."""
  import datadefs  # pylint: disable=import-outside-toplevel; the package's loader
  dataset = datadefs.load(definition)
  if dataset.kind != 'tabular':
    raise BaselineError(f'dataset {dataset.name!r} is of kind {dataset.kind!r}: a baseline is '
                        'measured on a table (a CSV)')
  if csv_path is None:
    root = datadefs.data_root(dataset)
    found = sorted(glob.glob(os.path.join(root, dataset.default_input_pattern or '*')))
    if not found:
      raise BaselineError(f'dataset {dataset.name!r}: no file in {root} matches '
                          f'{dataset.default_input_pattern or "*"}; give --csv FILE')
    csv_path = found[0]
  scores = measure(dataset, csv_path)
  path = Path(dataset.schema_path).parent / datadefs.DEFINITION_FILE
  baseline_scores.write_into(path, scores)
  datadefs.load(str(path))  # What was written loads.
  say(baseline_scores.describe(scores))
  say(f'wrote its [baseline] table into {path} (measured on {csv_path})')
  return scores
