"""What the ExampleGen counts of the rows it reads: per split, the rows read, the rows left out
because they have no label, and each column's missing cells (an empty cell, a declared missing
text, an absent or empty feature), over every row read.

The ExampleGen writes the counts on its Examples artifact as the `data_quality` custom
property (JSON, `to_property`); the run summary, the console and the report read them back
(`from_property`, `run_summary`, `left_out_line`). Exact counts, unlike TFDV's statistics,
which count a missing cell written as an empty list as present. Pure Python.

The property:
  {"label_columns": ["tips"],
   "splits": {"train": {"rows": 10001, "rows_without_label": 3, "missing": {"company": 3400}},
              "eval": {...}}}
"""

import json
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence

PROPERTY = 'data_quality'
# A column missing in at least this share of the rows read is flagged "mostly empty".
MOSTLY_EMPTY = 0.5

Counts = Dict[str, Any]  # one split's {"rows", "rows_without_label", "missing": {column: n}}


def split_counts(rows: int = 0, rows_without_label: int = 0,
                 missing: Optional[Mapping[str, int]] = None) -> Counts:
  return {'rows': int(rows), 'rows_without_label': int(rows_without_label),
          'missing': {name: int(count) for name, count in (missing or {}).items()}}


def merge(parts: Iterable[Mapping[str, Counts]]) -> Dict[str, Counts]:
  """{split: counts} summed over `parts` (each {split: counts}); a Beam combine function."""
  total: Dict[str, Counts] = {}
  for part in parts:
    for split, counts in part.items():
      into = total.setdefault(split, split_counts())
      into['rows'] += counts['rows']
      into['rows_without_label'] += counts['rows_without_label']
      for name, count in counts['missing'].items():
        into['missing'][name] = into['missing'].get(name, 0) + count
  return total


def to_property(splits: Mapping[str, Counts], label_columns: Sequence[str],
                columns: Sequence[str]) -> str:
  """The custom property's JSON; every split and column appears (zero when none missing)."""
  return json.dumps({
      'label_columns': list(label_columns),
      'splits': {split: split_counts(counts['rows'], counts['rows_without_label'],
                                     {name: counts['missing'].get(name, 0) for name in columns})
                 for split, counts in splits.items()},
  }, sort_keys=True)


def from_property(text: Optional[str]) -> Optional[Dict[str, Any]]:
  """The property's value; None when absent or not what to_property writes."""
  if not text:
    return None
  try:
    value = json.loads(text)
  except (TypeError, ValueError):
    return None
  if not isinstance(value, dict) or not isinstance(value.get('splits'), dict):
    return None
  return value


def run_summary(quality: Mapping[str, Any]) -> Dict[str, Any]:
  """last_run.json's `data_quality`: counted over every row the ExampleGen read."""
  splits = quality['splits'].values()
  rows = sum(counts['rows'] for counts in splits)
  missing = merge([{'all': counts} for counts in splits]).get('all', split_counts())['missing']
  return {'rows': rows,
          'rows_without_label': sum(counts['rows_without_label'] for counts in splits),
          'label_columns': list(quality.get('label_columns') or []),
          'missing_share': {name: round(count / rows, 6) if rows else 0.0
                            for name, count in sorted(missing.items())}}


def left_out_line(summary: Mapping[str, Any]) -> Optional[str]:
  """The console's line when rows were left out for having no label (run_summary's value)."""
  left_out = summary.get('rows_without_label') or 0
  if not left_out:
    return None
  columns = summary.get('label_columns') or []
  label = ' or '.join(repr(name) for name in columns) or 'the label'
  return (f'left out {left_out} of {summary["rows"]} rows: no {label} (a row without a label '
          'is not an example: not trained, tuned or evaluated on)')


def flag(share: float) -> str:
  """'all empty', 'mostly empty' or '' for a column's missing share."""
  if share >= 1.0:
    return 'all empty'
  return 'mostly empty' if share >= MOSTLY_EMPTY else ''
