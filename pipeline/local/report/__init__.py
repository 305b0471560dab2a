"""One self-contained report.html per run: the run, its data, validation, training and
evaluation, readable without TensorBoard, TFDV's notebook views or a network.

`write_report` is called by every run as it ends (pipeline/local/run.py `finish`, both
engines); `rebuild` and `list_runs` serve `python -m pipeline report` and `runs` from the
engines' stores. Importing this package is cheap: matplotlib, MLMD and the protobufs load when
a report is built.
"""

import json
import os
from pathlib import Path
from typing import List, Optional, Tuple

REPORT_FILE = 'report.html'
REPORTS_DIR = 'reports'  # rebuilt reports of earlier runs: reports/<run id>.html
LAST_RUN_FILE = 'last_run.json'


def write_report(summary_json: dict, pipeline_home: Path) -> Path:
  """Writes `<pipeline home>/report.html` for the run `summary_json` describes (the content of
  last_run.json) and returns its path. For the local engine the run's artifacts are those of
  the latest run in MLMD, when any component ran; after a "nothing new" run, the last run that
  ran, said so on the page."""
  from pipeline.local.report import sources  # pylint: disable=import-outside-toplevel
  pipeline_home = Path(pipeline_home)
  engine = summary_json.get('engine') or sources.LOCAL
  source = sources.open_source(pipeline_home, engine)
  record, note = None, None
  if engine == sources.VERTEX_LOCAL:
    if summary_json.get('run_id'):
      record = source.run(summary_json['run_id'], summary_json)
  elif summary_json.get('components') or summary_json.get('nothing_new'):
    record = source.run()
    if record is not None and summary_json.get('nothing_new'):
      note = (f'nothing new: nothing ran in this run; the figures below are from run '
              f'{record.run_id}, the last run that did')
  return _write(summary_json, record, note, pipeline_home, pipeline_home / REPORT_FILE, source)


def rebuild(pipeline_home: Path, run_id: Optional[str] = None, engine: Optional[str] = None) \
    -> Path:
  """Rebuilds the report of a past run from the store: the latest run's into report.html (with
  last_run.json's details), another run's into reports/<run id>.html.

  Raises LookupError naming the run when no store holds it.
  """
  from pipeline.local.report import sources  # pylint: disable=import-outside-toplevel
  pipeline_home = Path(pipeline_home)
  last = _last_run(pipeline_home)
  if run_id is None and last is not None and engine in (None, last.get('engine') or 'local'):
    return write_report(last, pipeline_home)  # the latest run is the one last_run.json describes
  engines = [engine] if engine else _engines(last)
  for name in engines:
    source = sources.open_source(pipeline_home, name)
    ids = [i for i, _ in source.run_ids()]
    if not ids or (run_id and run_id not in ids):
      continue
    if _describes(last, name, run_id or ids[-1], ids[-1]):
      return write_report(last, pipeline_home)
    record = source.run(run_id or ids[-1])
    output = pipeline_home / REPORTS_DIR / f'{_safe(record.run_id)}.html'
    return _write(summary_from_record(record), record, None, pipeline_home, output, source)
  where = f'{pipeline_home} ({", ".join(engines)})'
  raise LookupError(f'no run {run_id!r} in the stores of {where}' if run_id else
                    f'no runs recorded in {where}')


def _describes(last: Optional[dict], engine: str, run_id: str, latest_id: str) -> bool:
  """Whether last_run.json is the summary of this run (it holds the error text and timings the
  stores do not): the Vertex engine names its run; a local run that ran components is the
  latest MLMD run."""
  if not last or (last.get('engine') or 'local') != engine:
    return False
  if engine == 'vertex-local':
    return last.get('run_id') == run_id
  return bool(last.get('components')) and run_id == latest_id


def list_runs(pipeline_home: Path) -> List[Tuple[str, str, dict]]:
  """(engine, start time, summary_from_record(...)) of every run of either engine, oldest
  first; the summary carries `key_metric`."""
  import datetime  # pylint: disable=import-outside-toplevel
  from pipeline.local.report import readers  # pylint: disable=import-outside-toplevel
  from pipeline.local.report import sources  # pylint: disable=import-outside-toplevel
  found = []
  last = _last_run(Path(pipeline_home))
  for engine in (sources.LOCAL, sources.VERTEX_LOCAL):
    source = sources.open_source(Path(pipeline_home), engine)
    ids = source.run_ids()
    for run_id, started in ids:
      described = _describes(last, engine, run_id, ids[-1][0])
      record = source.run(run_id, last)
      summary = summary_from_record(record)
      if described:
        summary.update({k: last.get(k) for k in ('status', 'error', 'blessed', 'pushed_model')})
      evaluation = record.output('Evaluator', 'ModelEvaluation')
      summary['key_metric'] = next(
          (m.value for m in (readers.eval_metrics(evaluation.uri) if evaluation else [])
           if m.name == KEY_METRIC and m.slice == 'Overall' and not m.is_diff
           and m.model != 'baseline'), None)
      found.append((engine, datetime.datetime.fromtimestamp(started).isoformat(
          sep=' ', timespec='seconds'), summary))
  return sorted(found, key=lambda item: item[1])


KEY_METRIC = 'binary_accuracy'  # the metric the Evaluator's blessing threshold is on


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


def _write(summary: dict, record, note, pipeline_home: Path, output: Path, source=None) -> Path:
  from pipeline.local.report import collect  # pylint: disable=import-outside-toplevel
  from pipeline.local.report import html  # pylint: disable=import-outside-toplevel
  page = collect.build_page(summary, record, note, pipeline_home, source)
  output.parent.mkdir(parents=True, exist_ok=True)
  tmp = output.with_suffix('.html.tmp')
  tmp.write_text(html.render(page), encoding='utf-8')
  os.replace(tmp, output)  # atomic: a browser never shows half a report
  return output


def _last_run(pipeline_home: Path) -> Optional[dict]:
  try:
    return json.loads((pipeline_home / LAST_RUN_FILE).read_text())
  except (FileNotFoundError, json.JSONDecodeError):
    return None


def _engines(last: Optional[dict]) -> List[str]:
  first = (last or {}).get('engine') or 'local'
  return [first] + [e for e in ('local', 'vertex-local') if e != first]


def _safe(run_id: str) -> str:
  return ''.join(c if c.isalnum() or c in '-_.' else '_' for c in run_id)
