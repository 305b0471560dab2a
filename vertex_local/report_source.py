"""The local Vertex engine's store, read for the report: `<home>/vertex_local/metadata.json`
(store.py) as RunRecords (runs/report/record.py)."""

import json
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from runs.report.record import Artifact, RunRecord, Step, has_files
from vertex_local import ENGINE_NAME as ENGINE


class VertexLocalSource:
  """The local Vertex engine's JSON store (read only; the engine owns it): a run is the
  `pipeline_run` its artifacts carry. The store keeps no execution records per run: a step that
  was served from cache produced nothing new, so its artifacts are the newest of that task from
  an earlier run, and the resolvers' picks are only known for the latest run (last_run.json
  `resolved`)."""
  engine = ENGINE

  def __init__(self, path: Path):
    self.path = path
    self._artifacts: Optional[List[dict]] = None

  def _load(self) -> List[dict]:
    if self._artifacts is None:
      self._artifacts = (json.loads(self.path.read_text()).get('artifacts', [])
                         if self.path.exists() else [])
    return self._artifacts

  def run_ids(self) -> List[Tuple[str, float]]:
    started: Dict[str, float] = {}
    for item in self._load():
      run = item.get('pipeline_run')
      if run:
        started[run] = min(started.get(run, float('inf')), item.get('create_time', 0.0))
    return sorted(started.items(), key=lambda r: r[1])

  def run(self, run_id: Optional[str] = None, summary: Optional[dict] = None) -> \
      Optional[RunRecord]:
    """The run with this id (None: the latest). `summary`, this run's last_run.json, adds what
    the store does not keep: which steps were cached (their artifacts: the task's newest from an
    earlier run) and which artifacts the resolvers picked."""
    ids = dict(self.run_ids())
    run_id = run_id or (max(ids, key=ids.get) if ids else None)
    if run_id is None or run_id not in ids:
      return None
    record = RunRecord(run_id, ENGINE, ids[run_id])
    own = [a for a in self._load() if a.get('pipeline_run') == run_id]
    for item in sorted(own, key=lambda a: a.get('sequence', 0)):
      record.outputs.setdefault((item['producer_task'], _type(item)), []).append(_artifact(item))
    summary = summary if summary and summary.get('run_id') == run_id else {}
    for component in summary.get('components', []):
      status = component.get('status') or ('cached' if component.get('cached') else 'ran')
      record.steps.append(Step(component['name'], status, component.get('seconds'),
                               component.get('error'), resolver='resolver' in component['name'],
                               state=component.get('state')))
      if status == 'cached':
        self._add_cached_outputs(record, component['name'])
    if not summary:
      for task in dict.fromkeys(a['producer_task'] for a in own):
        record.steps.append(Step(task, 'ran', None))
    for pick in summary.get('resolved', []):
      if pick.get('uri') and pick.get('producer_task') == 'AnomaliesGate':
        record.inputs[('AnomaliesGate', 'baseline_statistics')] = [Artifact(
            'ExampleStatistics', pick['uri'], {}, pick.get('pipeline_run') or '')]
    return record

  def record_of(self, summary: dict) -> Tuple[Optional[RunRecord], Optional[str]]:
    return (self.run(summary['run_id'], summary) if summary.get('run_id') else None), None

  def describes(self, summary: Optional[dict], run_id: str, latest_id: str) -> bool:
    """The engine's last_run.json names its run."""
    return bool(summary) and summary.get('engine') == ENGINE and summary.get('run_id') == run_id

  def evaluation_of(self, model_uri: str) -> Optional[Tuple[str, Artifact]]:
    """(run id, evaluation) of the latest run whose Evaluator evaluated this model."""
    runs = [a.get('pipeline_run') for a in sorted(
        self._load(), key=lambda a: (a.get('create_time', 0.0), a.get('sequence', 0)),
        reverse=True) if _type(a) == 'ModelBlessing'
            and a.get('metadata', {}).get('current_model') == model_uri]
    for run in runs:
      for item in self._load():
        if item.get('pipeline_run') == run and _type(item) == 'ModelEvaluation' and \
            has_files(item.get('uri', '')):
          return run, _artifact(item)
    return None

  def _add_cached_outputs(self, record: RunRecord, task: str) -> None:
    earlier = [a for a in self._load() if a.get('producer_task') == task and
               a.get('create_time', 0.0) < (record.started or 0.0)]
    newest: Dict[str, dict] = {}
    for item in sorted(earlier, key=lambda a: (a.get('create_time', 0.0), a.get('sequence', 0))):
      newest[_type(item)] = item
    for artifact_type, item in newest.items():
      record.outputs.setdefault((task, artifact_type), []).append(_artifact(item))


def _type(item: dict) -> str:
  title = item.get('schema_title', '')
  return title[len('tfx.'):] if title.startswith('tfx.') else title


def _artifact(item: dict) -> Artifact:
  return Artifact(_type(item), item.get('uri', ''), dict(item.get('metadata', {})),
                  item.get('pipeline_run', ''))
