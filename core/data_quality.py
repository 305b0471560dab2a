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
An ExampleGen reading files (images) adds the files it left out as broken, each with why, and
the files it ignored (hidden files, clutter), each by path:
   "files": {"left_out": [["cat/a.jpg", "cannot be decoded as JPEG ..."]], "ignored": [...]}
"""

import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

PROPERTY = 'data_quality'
# A column missing in at least this share of the rows read is flagged "mostly empty".
MOSTLY_EMPTY = 0.5
# Files named in last_run.json and on the console, at most (the count is always exact).
FILES_LISTED = 20

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
                columns: Sequence[str], left_out_files: Optional[Sequence[Sequence[str]]] = None,
                ignored_files: Sequence[str] = ()) -> str:
  """The custom property's JSON; every split and column appears (zero when none missing).
  With `left_out_files` ((path, why) of each file left out as broken; [] for none) the files
  part too, with `ignored_files`."""
  value: Dict[str, Any] = {
      'label_columns': list(label_columns),
      'splits': {split: split_counts(counts['rows'], counts['rows_without_label'],
                                     {name: counts['missing'].get(name, 0) for name in columns})
                 for split, counts in splits.items()},
  }
  if left_out_files is not None:
    value['files'] = {'left_out': [[str(path), str(why)] for path, why in left_out_files],
                      'ignored': [str(path) for path in ignored_files]}
  return json.dumps(value, sort_keys=True)


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
  summary = {'rows': rows,
             'rows_without_label': sum(counts['rows_without_label'] for counts in splits),
             'label_columns': list(quality.get('label_columns') or []),
             'missing_share': {name: round(count / rows, 6) if rows else 0.0
                               for name, count in sorted(missing.items())}}
  files = quality.get('files')
  if isinstance(files, dict):
    left_out, ignored = files.get('left_out') or [], files.get('ignored') or []
    summary.update(files_left_out=len(left_out), files_ignored=len(ignored),
                   broken_files=[f'{path}: {why}' for path, why in left_out[:FILES_LISTED]],
                   ignored_files=list(ignored[:FILES_LISTED]))
  return summary


def left_out_line(summary: Mapping[str, Any]) -> Optional[str]:
  """The console's line when rows were left out for having no label (run_summary's value)."""
  left_out = summary.get('rows_without_label') or 0
  if not left_out:
    return None
  columns = summary.get('label_columns') or []
  label = ' or '.join(repr(name) for name in columns) or 'the label'
  return (f'left out {left_out} of {summary["rows"]} rows: no {label} (a row without a label '
          'is not an example: not trained, tuned or evaluated on)')


def left_out_files_lines(summary: Mapping[str, Any]) -> List[str]:
  """The console's lines about files left out as broken, and files ignored (run_summary's
  value); [] when there were none."""
  lines = []
  left_out, ignored = summary.get('files_left_out') or 0, summary.get('files_ignored') or 0
  if left_out:
    lines.append(f'left out {left_out} broken file(s) (not trained or evaluated on):')
    lines += [f'  {line}' for line in summary.get('broken_files') or []]
    if left_out > len(summary.get('broken_files') or []):
      lines.append(f'  ... (first {FILES_LISTED} shown)')
  if ignored:
    shown = ', '.join(summary.get('ignored_files') or [])
    lines.append(f'ignored {ignored} file(s) that are not images of a class (hidden files, '
                 f'clutter): {shown}' + (' ...' if ignored > FILES_LISTED else ''))
  return lines


def flag(share: float) -> str:
  """'all empty', 'mostly empty' or '' for a column's missing share."""
  if share >= 1.0:
    return 'all empty'
  return 'mostly empty' if share >= MOSTLY_EMPTY else ''
