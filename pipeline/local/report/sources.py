"""Where a run's artifacts are: one adapter per engine, so the report does not care which ran.

  * LocalDagRunner (`--engine local`): the MLMD SQLite store `<home>/metadata.sqlite`; a run is
    a `pipeline_run` context, its steps are the executions in it (one per node), and their
    input/output events name the artifacts, cached steps included.
  * The local Vertex engine (`--engine vertex-local`): `<home>/vertex_local/metadata.json`
    (vertex_local/store.py); a run is the `pipeline_run` its artifacts carry. The store keeps
    no execution records per run: a step that was served from cache produced nothing new, so
    its artifacts are the newest of that task from an earlier run, and the resolvers' picks are
    only known for the latest run (last_run.json `resolved`).
Both give a RunRecord: steps, and artifacts by (node, artifact type).
"""

import dataclasses
import json
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

LOCAL, VERTEX_LOCAL = 'local', 'vertex-local'
_STATES = {3: 'ran', 4: 'failed', 5: 'cached', 6: 'canceled'}  # MLMD Execution.State values
_RESULT_KEY = '__execution_result__'  # TFX: a failed execution's error, as JSON
_EXCEPTION_LINE = re.compile(r'^(?:[A-Za-z_][\w.]*\.)?[A-Za-z_]\w*(?:Error|Exception)\b:')


@dataclasses.dataclass(frozen=True)
class Artifact:
  type: str  # 'ExampleStatistics', 'ModelRun', ... (the 'tfx.' of Vertex titles dropped)
  uri: str
  properties: Dict[str, Any]
  run_id: str = ''  # the run that produced it


@dataclasses.dataclass
class Step:
  name: str
  status: str  # 'ran', 'cached', 'failed', ...
  seconds: Optional[float]
  error: Optional[str] = None
  resolver: bool = False


@dataclasses.dataclass
class RunRecord:
  run_id: str
  engine: str
  started: Optional[float]  # epoch seconds
  steps: List[Step] = dataclasses.field(default_factory=list)
  outputs: Dict[Tuple[str, str], List[Artifact]] = dataclasses.field(default_factory=dict)
  inputs: Dict[Tuple[str, str], List[Artifact]] = dataclasses.field(default_factory=dict)
  parameters: Dict[str, Dict[str, Any]] = dataclasses.field(default_factory=dict)

  def output(self, node: str, artifact_type: str) -> Optional[Artifact]:
    found = self.outputs.get((node, artifact_type))
    return found[0] if found else None

  def input(self, node: str, key: str) -> Optional[Artifact]:
    found = self.inputs.get((node, key))
    return found[0] if found else None

  @property
  def status(self) -> str:
    """'failed' if a step failed, 'succeeded' if the Pusher finished, else 'incomplete'."""
    if any(step.status == 'failed' and not step.resolver for step in self.steps):
      return 'failed'
    if any(step.name == 'Pusher' for step in self.steps):
      return 'succeeded'
    return 'incomplete'

  @property
  def error(self) -> Optional[str]:
    failed = [s for s in self.steps if s.status == 'failed' and not s.resolver]
    return f'{failed[0].name} failed: {failed[0].error or "no error recorded"}' if failed else None


def open_source(pipeline_home: Path, engine: str):
  """The adapter for the engine that ran ('local' or 'vertex-local')."""
  if engine == VERTEX_LOCAL:
    return VertexLocalSource(Path(pipeline_home) / 'vertex_local' / 'metadata.json')
  return MlmdSource(Path(pipeline_home) / 'metadata.sqlite')


class MlmdSource:
  """LocalDagRunner's MLMD store, opened read-only."""

  def __init__(self, path: Path):
    self.path = path
    self._store = None

  def _open(self):
    if self._store is None:
      import ml_metadata as mlmd  # pylint: disable=import-outside-toplevel
      from ml_metadata.proto import metadata_store_pb2  # pylint: disable=import-outside-toplevel
      config = metadata_store_pb2.ConnectionConfig()
      config.sqlite.filename_uri = str(self.path)
      config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
      self._store = mlmd.MetadataStore(config)
    return self._store

  def run_ids(self) -> List[Tuple[str, float]]:
    """(run id, start time) of every run, oldest first."""
    if not self.path.exists():
      return []
    runs = self._open().get_contexts_by_type('pipeline_run')
    return sorted(((c.name, c.create_time_since_epoch / 1000) for c in runs), key=lambda r: r[1])

  def run(self, run_id: Optional[str] = None,
          summary: Optional[dict] = None) -> Optional[RunRecord]:  # pylint: disable=unused-argument
    """The run with this id (None: the latest), or None when the store has no such run.
    (`summary` is for the Vertex store's sake: MLMD records everything it would add.)"""
    ids = self.run_ids()
    if run_id is None:
      run_id = ids[-1][0] if ids else None
    if run_id is None:
      return None
    store = self._open()
    context = store.get_context_by_type_and_name('pipeline_run', run_id)
    if context is None:
      return None
    record = RunRecord(run_id, LOCAL, context.create_time_since_epoch / 1000)
    executions = sorted(store.get_executions_by_context(context.id),
                        key=lambda e: (e.create_time_since_epoch, e.id))
    events = store.get_events_by_execution_ids([e.id for e in executions])
    artifacts = {a.id: a for a in store.get_artifacts_by_id(list({e.artifact_id for e in events}))}
    types = {t.id: t.name for t in store.get_artifact_types()}
    for execution in executions:
      node = self._node_name(store, execution)
      properties = {k: _value(v) for k, v in execution.custom_properties.items()}
      record.parameters[node] = properties
      resolver = 'Resolver' in execution.type
      status = _STATES.get(execution.last_known_state, 'running')
      # TFX records a resolver that found nothing (e.g. no baseline yet) as FAILED.
      found_nothing = resolver and status == 'failed'
      record.steps.append(Step(
          node, 'ran' if found_nothing else status,
          (execution.last_update_time_since_epoch - execution.create_time_since_epoch) / 1000,
          error=None if found_nothing else _execution_error(properties.get(_RESULT_KEY)),
          resolver=resolver))
      for event in (e for e in events if e.execution_id == execution.id):
        artifact = artifacts.get(event.artifact_id)
        if artifact is None:
          continue
        item = Artifact(types.get(artifact.type_id, ''), artifact.uri,
                        {k: _value(v) for k, v in artifact.custom_properties.items()})
        key = event.path.steps[0].key if event.path.steps else ''
        if event.type in (event.INPUT, event.DECLARED_INPUT):
          record.inputs.setdefault((node, key), []).append(item)
        elif event.type in (event.OUTPUT, event.DECLARED_OUTPUT):
          record.outputs.setdefault((node, item.type), []).append(item)
    return record

  def evaluation_of(self, model_uri: str) -> Optional[Tuple[str, Artifact]]:
    """(run id, evaluation) of the latest run that evaluated this model (an unchanged model's
    run evaluates nothing: its metrics are in the run that first evaluated it)."""
    store = self._open()
    blessings = [b for b in store.get_artifacts_by_type('ModelBlessing')
                 if _value(b.custom_properties.get('current_model')) == model_uri]
    for blessing in sorted(blessings, key=lambda b: b.id, reverse=True):
      for event in store.get_events_by_artifact_ids([blessing.id]):
        if event.type != event.OUTPUT:
          continue
        outputs = [e.artifact_id for e in store.get_events_by_execution_ids([event.execution_id])
                   if e.type == e.OUTPUT]
        for artifact in store.get_artifacts_by_id(outputs):
          if _has_files(artifact.uri) and artifact.id != blessing.id and any(
              t.name == 'ModelEvaluation' for t in store.get_artifact_types_by_id(
                  [artifact.type_id])):
            runs = [c.name for c in store.get_contexts_by_execution(event.execution_id)
                    if c.type == 'pipeline_run']
            return (runs[0] if runs else '?'), Artifact('ModelEvaluation', artifact.uri, {})
    return None

  @staticmethod
  def _node_name(store, execution) -> str:
    for context in store.get_contexts_by_execution(execution.id):
      if context.type == 'node':
        return context.name.split('.', 1)[-1]
    return execution.type


def _has_files(uri: str) -> bool:
  folder = Path(uri)
  return folder.is_dir() and any(folder.iterdir())


def _value(value) -> Any:
  if value is None:
    return None
  kind = value.WhichOneof('value')
  if kind == 'struct_value':
    from google.protobuf import json_format  # pylint: disable=import-outside-toplevel
    return json_format.MessageToDict(value.struct_value)
  return getattr(value, kind) if kind in ('int_value', 'double_value', 'string_value',
                                          'bool_value') else None


def _execution_error(result_json: Optional[str]) -> Optional[str]:
  """The exception line(s) at the end of a failed execution's recorded traceback."""
  if not result_json:
    return None
  try:
    message = json.loads(result_json).get('resultMessage', '')
  except json.JSONDecodeError:
    message = result_json
  lines = message.rstrip().splitlines()
  for i in range(len(lines) - 1, -1, -1):
    if _EXCEPTION_LINE.match(lines[i]):
      return '\n'.join(lines[i:]).strip()
  return lines[-1] if lines else None


class VertexLocalSource:
  """The local Vertex engine's JSON store (read only; the engine owns it)."""

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
    record = RunRecord(run_id, VERTEX_LOCAL, ids[run_id])
    own = [a for a in self._load() if a.get('pipeline_run') == run_id]
    for item in sorted(own, key=lambda a: a.get('sequence', 0)):
      record.outputs.setdefault((item['producer_task'], _type(item)), []).append(_artifact(item))
    summary = summary if summary and summary.get('run_id') == run_id else {}
    for component in summary.get('components', []):
      status = 'cached' if component.get('cached') else 'ran'
      record.steps.append(Step(component['name'], status, component.get('seconds'),
                               resolver='resolver' in component['name']))
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

  def evaluation_of(self, model_uri: str) -> Optional[Tuple[str, Artifact]]:
    """(run id, evaluation) of the latest run whose Evaluator evaluated this model."""
    runs = [a.get('pipeline_run') for a in sorted(
        self._load(), key=lambda a: (a.get('create_time', 0.0), a.get('sequence', 0)),
        reverse=True) if _type(a) == 'ModelBlessing'
            and a.get('metadata', {}).get('current_model') == model_uri]
    for run in runs:
      for item in self._load():
        if item.get('pipeline_run') == run and _type(item) == 'ModelEvaluation' and \
            _has_files(item.get('uri', '')):
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
