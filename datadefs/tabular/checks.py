"""The pre-check of a tabular dataset's CSV files, before any component runs: every file is read
by the pipeline's CSV reader (csv_files.py) exactly as the ExampleGen will read it, and each
problem is named by file, line and column."""

from pathlib import Path
from typing import List, Sequence

from datadefs.tabular import csv_files

_HEADER_ONLY = 'header only, no data rows'


def check_files(files: Sequence[Path], dataset, limit: int) -> List[str]:
  """Problems of the CSV files of `dataset` (datadefs.definition.Dataset): up to `limit`, each
  naming its file (and line and column)."""
  not_csv = [p.name for p in files if not p.name.lower().endswith(('.csv', '.csv.gz'))]
  if not_csv:
    folder = Path(files[0]).parent
    return [f'{folder} holds files that are not .csv or .csv.gz: {not_csv}; the ExampleGen '
            'reads every file of the folder (or of INPUT_PATTERN), so move them out']
  column_types = dataset.column_types
  problems: List[str] = []
  for path in files:
    problems += _file_problems(str(path), column_types, dataset, limit)
    if len(problems) >= limit:
      break
  header_only = [p for p in problems if p.endswith(_HEADER_ONLY)]
  if len(header_only) < len(files):
    # A header-only file next to files with data is harmless; only all-empty data is an error.
    problems = [p for p in problems if p not in header_only]
  return problems[:limit]


def _file_problems(path: str, column_types, dataset, limit: int) -> List[str]:
  try:
    rows = csv_files.count_rows(path, column_types, dataset.missing_values,
                                label=dataset.label.column)
  except csv_files.CsvInputError as error:
    # The reader stops at the first problem; list the file's others too, line by line.
    more = ([] if 'line ' not in str(error) else
            csv_files.find_problems(path, column_types, dataset.missing_values,
                                    limit=limit))
    return more or [str(error)]
  return [] if rows else [f'{path}: {_HEADER_ONLY}']
