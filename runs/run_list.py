"""`python -m pipeline runs`: every run of a pipeline home, newest last.

The runs come from the run history (runs/history.py, `<home>/runs.jsonl`: every run an engine
ended, whatever its outcome, a run the pre-check refused before any component included), and
from the engines' stores for runs no history line describes (a `tfx run create` run, which
writes no summary). Each run shows its pipeline, its own key metric (the metric its task's
blessing is on: datadefs/tasks.py), its data root and its log.
"""

import dataclasses
import datetime
from typing import List, Mapping, Optional, Tuple

from core.home import PipelineHome
from datadefs import tasks
from runs import history
from runs import report
from runs.report.record import RunSource


@dataclasses.dataclass
class RunRow:
  when: str  # finished (history) or started (a store's run), 'YYYY-MM-DD HH:MM:SS'
  engine: str
  pipeline: str
  status: str
  blessed: Optional[bool]
  key_metric: Optional[Tuple[str, float]]
  run_id: str = ''
  data_root: str = ''
  log_file: str = ''
  pushed_model: str = ''
  error: str = ''


def rows(home: PipelineHome, sources: Mapping[str, RunSource]) -> List[RunRow]:
  """Every run: the history's, then the stores' runs it does not describe, by time."""
  runs = history.runs(home)
  found = [_from_history(run) for run in runs]
  stored = report.list_runs(home, sources)
  known = {row.run_id for row in found if row.run_id} | _matched_by_time(runs, stored)
  for engine, started, summary in stored:
    if summary['run_id'] in known:
      continue
    metric = summary.get('key_metric')
    found.append(RunRow(
        when=started, engine=engine, pipeline='-', status=summary['status'],
        blessed=summary.get('blessed'),
        key_metric=None if metric is None else (summary['key_metric_name'], metric),
        run_id=summary['run_id'], pushed_model=summary.get('pushed_model') or '',
        error=summary.get('error') or ''))
  return sorted(found, key=lambda row: row.when)


def _matched_by_time(runs: List[dict], stored) -> set:
  """Store runs that a history line without a run id describes (lines written before runs
  recorded their id): a line where components ran describes its engine's latest store run
  that started before it finished."""
  matched = set()
  for run in runs:
    if run.get('run_id') or not run.get('components') or not run.get('finished'):
      continue
    finished = run['finished'].replace('T', ' ')
    earlier = [summary['run_id'] for engine, started, summary in stored
               if engine == (run.get('engine') or report.DEFAULT_ENGINE) and started <= finished]
    if earlier:
      matched.add(earlier[-1])
  return matched


def _from_history(run: dict) -> RunRow:
  finished = run.get('finished') or ''
  try:
    when = datetime.datetime.fromisoformat(finished).isoformat(sep=' ', timespec='seconds')
  except ValueError:
    when = finished or '-'
  status = ('nothing new' if run.get('nothing_new') else run.get('status') or 'unknown')
  return RunRow(
      when=when, engine=run.get('engine') or report.DEFAULT_ENGINE,
      pipeline=run.get('pipeline') or '-', status=status, blessed=run.get('blessed'),
      key_metric=tasks.key_metric(run.get('metrics') or {}, run.get('task')),
      run_id=run.get('run_id') or '', data_root=run.get('data_root') or '',
      log_file=run.get('log_file') or '', pushed_model=run.get('pushed_model') or '',
      error=(run.get('error') or '').strip())


def render(found: List[RunRow]) -> List[str]:
  """A line per run, then an indented line with its data, log, pushed model and error."""
  lines = [f'{"time":<19}  {"engine":<12} {"pipeline":<20} {"status":<11} {"blessed":<7} '
           f'{"key metric":<34} run id']
  for row in found:
    metric = '-' if row.key_metric is None else f'{row.key_metric[0]}={row.key_metric[1]:.4f}'
    lines.append(f'{row.when:<19}  {row.engine:<12} {row.pipeline:<20} {row.status:<11} '
                 f'{_yes_no(row.blessed):<7} {metric:<34} {row.run_id or "-"}')
    details = [f'data {row.data_root or "not recorded"}', f'log {row.log_file or "none"}']
    if row.pushed_model:
      details.append(f'pushed {row.pushed_model}')
    if row.error:
      details.append(f'error: {row.error.splitlines()[0]}')
    lines.append('    ' + '; '.join(details))
  return lines


def _yes_no(value: Optional[bool]) -> str:
  return '-' if value is None else ('yes' if value else 'no')
