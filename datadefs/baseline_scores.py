"""A definition's `[baseline]` table: the naive baseline's and a default gradient-boosted
model's score on the dataset, measured by datadefs/tabular/baseline.py (`dataset init`, and
`python -m pipeline dataset baseline DIR`, which rewrites the table in place).

    [baseline]
    metric = "binary_accuracy"   # the task's blessing metric (datadefs/tasks.py)
    naive = 0.60                 # always the train part's majority class (or its mean)
    gbm = 0.89                   # scikit-learn's HistGradientBoosting*, defaults; may be absent
    rows = 15000                 # labelled sample rows, split by the pipeline's rule...
    eval_rows = 5000             # ...of which the eval part, where both are scored
    how = "..."                  # how it was measured, in words

The naive score also bounds the blessing (`blessing_bound`): a model worse than it is never
blessed, whatever `blessing_threshold` says.
"""

import math
import re
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple

from datadefs import tasks
from datadefs.fields import Fields
from datadefs.task_values import BaselineScores

TABLE = 'baseline'
_TABLE_START = re.compile(r'^\s*\[\s*baseline\s*\]\s*(#.*)?$')
_NEXT_TABLE = re.compile(r'^\s*\[')


def parse(values: Mapping[str, Any], source: str, task: tasks.Task) -> BaselineScores:
  """The checked `[baseline]` table; DatasetError names the file and the field."""
  fields = Fields(values, source, prefix=f'{TABLE}.')
  metric = fields.text('metric')
  if metric != task.blessing_metric:
    raise fields.error('metric', f'the {task.name} task is blessed on '
                       f'{task.blessing_metric!r}, got {metric!r}; rerun `python -m pipeline '
                       'dataset baseline DIR` to measure it again')
  scores = {}
  for key in ('naive', 'gbm'):
    if key == 'gbm' and key not in values:
      scores[key] = None
      fields.read.add(key)
      continue
    value = float(fields.number(key))
    problem = None if math.isfinite(value) else 'is not a finite number'
    problem = problem or task.check_score(value)
    if problem:
      raise fields.error(key, problem)
    scores[key] = value
  rows = _count(fields, 'rows', 2)
  eval_rows = _count(fields, 'eval_rows', 1)
  if eval_rows >= rows:
    raise fields.error('eval_rows', f'the eval part ({eval_rows}) is part of the {rows} rows: '
                       'it must be fewer')
  how = fields.text('how', default='')
  fields.no_unknown()
  return BaselineScores(metric=metric, naive=scores['naive'], gbm=scores['gbm'], rows=rows,
                        eval_rows=eval_rows, how=how)


def _count(fields: Fields, key: str, least: int) -> int:
  value = fields.number(key)
  if int(value) != value or value < least:
    raise fields.error(key, f'must be a whole number >= {least}, got {value!r}')
  return int(value)


def blessing_bound(task: tasks.Task, threshold: float,
                   baseline: Optional[BaselineScores]) -> Tuple[float, bool]:
  """(the bound the Evaluator blesses against, whether the naive score set it): the definition's
  threshold, made at least as strict as the naive baseline's score."""
  if baseline is None:
    return threshold, False
  stricter = (baseline.naive > threshold if task.higher_is_better
              else baseline.naive < threshold)
  return (baseline.naive, True) if stricter else (threshold, False)


def to_toml(scores: BaselineScores,
            again: str = '`python -m pipeline dataset baseline DIR`') -> str:
  """The `[baseline]` table's text, with a comment saying how to measure it `again`."""
  lines = ['# Scores on the eval part of a sample split by the pipeline\'s rule; a model worse '
           'than `naive`', f'# is never blessed. Measured again by {again}.', f'[{TABLE}]',
           f'metric = "{scores.metric}"',
           f'naive = {scores.naive:.6g}']
  if scores.gbm is not None:
    lines.append(f'gbm = {scores.gbm:.6g}')
  lines += [f'rows = {scores.rows}', f'eval_rows = {scores.eval_rows}',
            'how = "' + scores.how.replace('\\', '\\\\').replace('"', '\\"') + '"']
  return '\n'.join(lines) + '\n'


def write_into(definition: Path, scores: BaselineScores) -> None:
  """Replaces the definition's `[baseline]` table (and the comment lines right above it) with
  `scores`, or adds it at the end; the rest of the file is kept as it is."""
  lines = definition.read_text(encoding='utf-8').splitlines()
  start = next((index for index, line in enumerate(lines) if _TABLE_START.match(line)), None)
  if start is None:
    kept = lines
  else:
    end = next((index for index in range(start + 1, len(lines))
                if _NEXT_TABLE.match(lines[index])), len(lines))
    while end < len(lines) and end - 1 > start and lines[end - 1].startswith('#'):
      end -= 1  # The next table's own comment.
    while start > 0 and lines[start - 1].startswith('#'):
      start -= 1
    kept = lines[:start] + lines[end:]
  while kept and not kept[-1].strip():
    kept.pop()
  definition.write_text('\n'.join(kept) + '\n\n' + to_toml(scores), encoding='utf-8')


def describe(scores: BaselineScores, of: str = 'labelled sample rows') -> str:
  """One line: both scores, the metric, and on how many rows (or `of` what: images)."""
  gbm = 'not fit' if scores.gbm is None else f'{scores.gbm:.4g}'
  return (f'baseline ({scores.metric} on the eval part, {scores.eval_rows} of {scores.rows} '
          f'{of}): naive {scores.naive:.4g}, default gradient-boosted model {gbm}')
