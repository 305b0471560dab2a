"""What a run did, as printed to the console and written to `<pipeline home>/last_run.json`.

Per-component timing comes from the runner's own progress log lines (see progress.py); whether
the model was blessed and pushed, and the eval metrics, are read from the MLMD store.
"""

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2

# The blessing's custom property saying the candidate was the blessed baseline itself
# (components/unchanged_model.py; spelled here so reading a run needs no TFX import).
UNCHANGED_MODEL_KEY = 'unchanged_model'


@dataclasses.dataclass
class ComponentRun:
  name: str
  seconds: float
  cached: bool
  status: str  # 'ran', 'cached' or 'failed'


@dataclasses.dataclass
class RunSummary:
  status: str  # 'succeeded' or 'failed'
  log_file: Optional[str]
  components: List[ComponentRun] = dataclasses.field(default_factory=list)
  pushed_model: Optional[str] = None
  blessed: Optional[bool] = None
  metrics: Dict[str, float] = dataclasses.field(default_factory=dict)
  error: Optional[str] = None
  # Engine-specific keys added to last_run.json (the local Vertex engine: engine, spec,
  # substitutions, resolved, ...).
  details: Dict[str, Any] = dataclasses.field(default_factory=dict)

  def to_json(self) -> dict:
    return {
        **self.details,
        'status': self.status,
        'pushed_model': self.pushed_model,
        'blessed': self.blessed,
        'metrics': self.metrics,
        'components': [{'name': c.name, 'seconds': round(c.seconds, 3), 'cached': c.cached}
                       for c in self.components],
        'log_file': self.log_file,
        'error': self.error,
    }

  def write(self, path: Path) -> None:
    """Writes atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix('.json.tmp')
    tmp.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + '\n')
    os.replace(tmp, path)


def latest_pushed_model(last_run_path: Path) -> Optional[str]:
  """The newest model any earlier run pushed, from the previous last_run.json (None if none)."""
  try:
    previous = json.loads(Path(last_run_path).read_text())
  except (FileNotFoundError, json.JSONDecodeError):
    return None
  return previous.get('pushed_model') or previous.get('latest_pushed_model')


def _latest_run_executions(store: mlmd.MetadataStore, pipeline_name: str):
  runs = [context for context in store.get_contexts_by_type('pipeline_run')
          if any(parent.name == pipeline_name
                 for parent in store.get_parent_contexts_by_context(context.id))]
  if not runs:
    # Older MLMD layouts do not link runs to the pipeline context; fall back to all runs.
    runs = store.get_contexts_by_type('pipeline_run')
  if not runs:
    return {}
  latest = max(runs, key=lambda context: context.create_time_since_epoch)
  by_node = {}
  for execution in store.get_executions_by_context(latest.id):
    for context in store.get_contexts_by_execution(execution.id):
      if context.type == 'node':
        by_node[context.name.split('.', 1)[-1]] = execution
  return by_node


def _output_artifacts(store: mlmd.MetadataStore, execution) -> List[metadata_store_pb2.Artifact]:
  events = store.get_events_by_execution_ids([execution.id])
  ids = [e.artifact_id for e in events if e.type in (metadata_store_pb2.Event.OUTPUT,
                                                      metadata_store_pb2.Event.DECLARED_OUTPUT)]
  return store.get_artifacts_by_id(ids) if ids else []


def _int_property(artifact, name) -> Optional[int]:
  if name in artifact.custom_properties:
    return artifact.custom_properties[name].int_value
  return None


def read_eval_metrics(evaluation_uri: str) -> Dict[str, float]:
  """Overall-slice metrics from an Evaluator output, as {name: value}."""
  if not any(Path(evaluation_uri).iterdir()):
    return {}  # Nothing was evaluated: the candidate was the blessed baseline itself.
  import tensorflow_model_analysis as tfma  # Heavy; only needed here.
  result = tfma.load_eval_result(evaluation_uri)
  metrics = {}
  for slice_key, by_output in result.slicing_metrics:
    if slice_key:  # () is the overall slice.
      continue
    for by_sub_key in by_output.values():
      for values in by_sub_key.values():
        for name, value in values.items():
          if 'doubleValue' in value:
            metrics[name] = float(value['doubleValue'])
  return metrics


def fill_from_metadata(summary: RunSummary, metadata_path: str, pipeline_name: str) -> None:
  """Sets pushed_model, blessed and metrics from the latest run recorded in MLMD."""
  if not Path(metadata_path).exists():
    return
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = metadata_path
  config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
  store = mlmd.MetadataStore(config)
  executions = _latest_run_executions(store, pipeline_name)
  evaluator = executions.get('Evaluator')
  if evaluator is not None:
    for artifact in _output_artifacts(store, evaluator):
      blessed = _int_property(artifact, 'blessed')
      if blessed is not None:
        summary.blessed = bool(blessed)
        if _int_property(artifact, UNCHANGED_MODEL_KEY) == 1:
          summary.details['model_unchanged'] = True
      elif Path(artifact.uri).exists():
        summary.metrics = read_eval_metrics(artifact.uri)
  pusher = executions.get('Pusher')
  if pusher is not None:
    for artifact in _output_artifacts(store, pusher):
      if _int_property(artifact, 'pushed') == 1:
        summary.pushed_model = artifact.custom_properties['pushed_destination'].string_value
