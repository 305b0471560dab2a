"""LocalDagRunner's store, read: the report's adapter over the MLMD SQLite store
(`<home>/metadata.sqlite`), and what a finished run's summary takes from it (blessing, metrics,
pushed model)."""

import json
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from core import data_quality
from core.names import UNCHANGED_MODEL_KEY
from runs.report.record import Artifact, RunRecord, Step, has_files
from runs.summary import RunSummary, eval_metrics, record_data_quality

ENGINE = 'local'
EXAMPLE_GENS = ('CsvExampleGen', 'ImportExampleGen', 'BigQueryExampleGen', 'ImageExampleGen')
_STATES = {3: 'ran', 4: 'failed', 5: 'cached', 6: 'canceled'}  # MLMD Execution.State values
_RESULT_KEY = '__execution_result__'  # TFX: a failed execution's error, as JSON
_EXCEPTION_LINE = re.compile(r'^(?:[A-Za-z_][\w.]*\.)?[A-Za-z_]\w*(?:Error|Exception)\b:')


class MlmdSource:
  """LocalDagRunner's MLMD store, opened read-only: a run is a `pipeline_run` context, its steps
  are the executions in it (one per node), and their input/output events name the artifacts,
  cached steps included."""
  engine = ENGINE

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
    record = RunRecord(run_id, ENGINE, context.create_time_since_epoch / 1000)
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

  def record_of(self, summary: dict) -> Tuple[Optional[RunRecord], Optional[str]]:
    """The latest MLMD run, when a component ran; after a "nothing new" run (nothing ran), the
    last run that ran, said so."""
    if not (summary.get('components') or summary.get('nothing_new')):
      return None, None
    record = self.run(self.latest_run_of(summary.get('pipeline')))
    if record is not None and summary.get('nothing_new'):
      return record, (f'nothing new: nothing ran in this run; the figures below are from run '
                      f'{record.run_id}, the last run that did')
    return record, None

  def describes(self, summary: Optional[dict], run_id: str, latest_id: str) -> bool:
    """A local run's last_run.json describes the latest MLMD run of its pipeline when a
    component ran."""
    if not summary or (summary.get('engine') or ENGINE) != ENGINE or not summary.get(
        'components'):
      return False
    return run_id == (self.latest_run_of(summary.get('pipeline')) or latest_id)

  def latest_run_of(self, pipeline_name: Optional[str]) -> Optional[str]:
    """The newest run of this pipeline (several pipelines may share the store); None: no such
    run, or no pipeline named (then callers take the latest of any)."""
    if not pipeline_name or not self.path.exists():
      return None
    store = self._open()
    runs = [context for context in store.get_contexts_by_type('pipeline_run')
            if any(parent.name == pipeline_name
                   for parent in store.get_parent_contexts_by_context(context.id))]
    return max(runs, key=lambda c: c.create_time_since_epoch).name if runs else None

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
          if has_files(artifact.uri) and artifact.id != blessing.id and any(
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

def fill_summary(summary: RunSummary, metadata_path: Path, pipeline_name: str) -> None:
  """Sets blessed, metrics and pushed_model from the pipeline's latest run in MLMD."""
  if not Path(metadata_path).exists():
    return
  source = MlmdSource(Path(metadata_path))
  record = source.run(source.latest_run_of(pipeline_name))
  if record is None:
    return
  summary.details['run_id'] = record.run_id
  for node in EXAMPLE_GENS:
    examples = record.output(node, 'Examples')
    if examples is not None:
      record_data_quality(summary, examples.properties.get(data_quality.PROPERTY))
  blessing = record.output('Evaluator', 'ModelBlessing')
  if blessing is not None and 'blessed' in blessing.properties:
    summary.blessed = blessing.properties['blessed'] == 1
    if blessing.properties.get(UNCHANGED_MODEL_KEY) == 1:
      summary.details['model_unchanged'] = True
  evaluation = record.output('Evaluator', 'ModelEvaluation')
  if evaluation is not None and Path(evaluation.uri).exists():
    summary.metrics = eval_metrics(evaluation.uri)
    summary.evaluation_uri = evaluation.uri
  pushed = record.output('Pusher', 'PushedModel')
  if pushed is not None and pushed.properties.get('pushed') == 1:
    summary.pushed_model = pushed.properties.get('pushed_destination')

