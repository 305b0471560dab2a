"""One self-contained report.html per run: the run, its data, validation, training and
evaluation, readable without TensorBoard, TFDV's notebook views or a network.

`write_report` is called by every run as it ends (runs/summary.py `finish`, every engine);
`rebuild` and `list_runs` serve `python -m pipeline report` and `runs`. Each engine's store is
read through the RunSource the engine provides (runs/report/record.py), passed in as `sources`
({engine name: source}), so the report knows no engine. Importing this package is cheap:
matplotlib and the protobufs load when a report is built.
"""

import datetime
import json
import os
from pathlib import Path
from typing import List, Mapping, Optional, Tuple

from core.home import PipelineHome
from runs.report.record import RunSource

Sources = Mapping[str, RunSource]
DEFAULT_ENGINE = 'local'  # what a summary without an `engine` was written by (older homes)


def write_report(summary_json: dict, home: PipelineHome, sources: Sources) -> Path:
  """Writes `<pipeline home>/report.html` for the run `summary_json` describes (the content of
  last_run.json) and returns its path. The run's artifacts come from its engine's store."""
  source = sources.get(summary_json.get('engine') or DEFAULT_ENGINE)
  record, note = source.record_of(summary_json) if source is not None else (None, None)
  return _write(summary_json, record, note, home, home.report, source)


def rebuild(home: PipelineHome, sources: Sources, run_id: Optional[str] = None,
            engine: Optional[str] = None) -> Path:
  """Rebuilds the report of a past run from the store: the latest run's into report.html (with
  last_run.json's details), another run's into reports/<run id>.html.

  Raises LookupError naming the run when no store holds it.
  """
  last = _last_run(home)
  if run_id is None and last is not None and engine in (None, last.get('engine')):
    return write_report(last, home, sources)  # the latest run is the one last_run.json describes
  names = [engine] if engine else sorted(sources, key=lambda e: e != (last or {}).get('engine'))
  for name in names:
    if name not in sources:
      raise LookupError(f'no engine {name!r} keeps runs in {home.root}; known: {sorted(sources)}')
    source = sources[name]
    ids = [i for i, _ in source.run_ids()]
    if not ids or (run_id and run_id not in ids):
      continue
    if source.describes(last, run_id or ids[-1], ids[-1]):
      return write_report(last, home, sources)
    record = source.run(run_id or ids[-1])
    output = home.reports / f'{_safe(record.run_id)}.html'
    return _write(summary_from_record(record), record, None, home, output, source)
  where = f'{home.root} ({", ".join(names)})'
  raise LookupError(f'no run {run_id!r} in the stores of {where}' if run_id else
                    f'no runs recorded in {where}')


def list_runs(home: PipelineHome, sources: Sources) -> List[Tuple[str, str, dict]]:
  """(engine, start time, summary_from_record(...)) of every run in any engine's store, oldest
  first; each summary carries `key_metric`, the value of the metric its blessing is on, and
  that metric's name."""
  from runs.report import model_view  # pylint: disable=import-outside-toplevel
  found = []
  last = _last_run(home)
  for engine, source in sources.items():
    ids = source.run_ids()
    for run_id, started in ids:
      record = source.run(run_id, last)
      summary = summary_from_record(record)
      if source.describes(last, run_id, ids[-1][0]):
        summary.update({k: last.get(k) for k in ('status', 'error', 'blessed', 'pushed_model')})
      evaluation = record.output('Evaluator', 'ModelEvaluation')
      summary['key_metric_name'], summary['key_metric'] = (
          model_view.blessing_metric(evaluation.uri) if evaluation else (None, None))
      found.append((engine, datetime.datetime.fromtimestamp(started).isoformat(
          sep=' ', timespec='seconds'), summary))
  return sorted(found, key=lambda item: item[1])


def summary_from_record(record) -> dict:
  """What last_run.json would have said, as far as the store remembers it."""
  blessing = record.output('Evaluator', 'ModelBlessing')
  pushed = record.output('Pusher', 'PushedModel')
  properties = blessing.properties if blessing else {}
  return {
      'status': record.status, 'error': record.error, 'engine': record.engine,
      'run_id': record.run_id, 'components': [],
      'blessed': properties['blessed'] == 1 if 'blessed' in properties else None,
      'model_unchanged': properties.get('unchanged_model') == 1,
      'pushed_model': (pushed.properties.get('pushed_destination')
                       if pushed and pushed.properties.get('pushed') == 1 else None),
      'metrics': {},
  }


def _write(summary: dict, record, note, home: PipelineHome, output: Path, source=None) -> Path:
  from runs.report import collect  # pylint: disable=import-outside-toplevel
  from runs.report import html  # pylint: disable=import-outside-toplevel
  page = collect.build_page(summary, record, note, home.root, source)
  output.parent.mkdir(parents=True, exist_ok=True)
  tmp = output.with_suffix('.html.tmp')
  tmp.write_text(html.render(page), encoding='utf-8')
  os.replace(tmp, output)  # atomic: a browser never shows half a report
  return output


def _last_run(home: PipelineHome) -> Optional[dict]:
  try:
    return json.loads(home.last_run.read_text())
  except (FileNotFoundError, json.JSONDecodeError):
    return None


def _safe(run_id: str) -> str:
  return ''.join(c if c.isalnum() or c in '-_.' else '_' for c in run_id)
