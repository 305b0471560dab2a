"""Runs one task of a compiled spec as Vertex would: a container (driver first, then the
executor as a subprocess), a resolver (filters over the artifact store) or an importer.

Container tasks: inputs resolved from upstream outputs; outputs planned with fresh names and URIs
under a fresh attempt directory `<root>/<project number>/<run id>/<task>_<attempt>/`; the
`lifecycle.preCacheCheck` driver runs with that ExecutorInput and its ExecutorOutput is merged
into the parameters and the output artifacts' metadata; then the cache is consulted (caching.py)
and, on a miss, the container command runs with `{{$}}` filled and `executor_output.json` is read
back into the store.
"""

import dataclasses
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from vertex_local import caching
from vertex_local import executor_input as executor_input_lib
from vertex_local import spec as spec_lib
from vertex_local.store import ArtifactStore, CachedExecution, StoredArtifact
from vertex_local.substitutions import Substitutions

PROJECT_NUMBER = 'local'
Produced = Dict[Tuple[str, str], List[StoredArtifact]]  # (task, output key) -> artifacts
_EXCEPTION_LINE = re.compile(r'^(?:[A-Za-z_][\w.]*\.)?[A-Za-z_]\w*(?:Error|Exception|Exit)\b')


class TaskFailed(RuntimeError):
  """A task failed; the message is what a user needs (the executor's own error, or why)."""


@dataclasses.dataclass
class RunContext:
  """What every task of one run shares."""
  job: spec_lib.CompiledJob
  run_id: str
  store: ArtifactStore
  substitutions: Substitutions
  produced: Produced
  environment: Dict[str, str]
  task_log_dir: Path
  contexts: List[str]
  resolved: List[Dict[str, Any]] = dataclasses.field(default_factory=list)
  log: Callable[[str], None] = print
  # Set to cancel the run: running task processes are stopped, no new task starts.
  cancelled: threading.Event = dataclasses.field(default_factory=threading.Event)


class TaskCancelled(TaskFailed):
  """The run was cancelled while this task ran; its process was stopped."""


def inputs_of(task: spec_lib.Task, run: RunContext) -> Dict[str, List[StoredArtifact]]:
  return {key: list(run.produced.get((source.producer_task, source.output_key), []))
          for key, source in task.artifacts.items()}


def run_resolver(task: spec_lib.Task, run: RunContext) -> None:
  """Each output query, placeholders filled from the inputs, over the whole store, newest
  first; the first match (LatestArtifactStrategy's one artifact) or nothing."""
  inputs = inputs_of(task, run)
  for key, query in sorted(task.executor['resolver']['outputArtifactQueries'].items()):
    text = query.get('filter', '')
    referenced = re.findall(r"\$\.inputs\.artifacts\['([^']+)'\]", text)
    if any(not inputs.get(name) for name in referenced):
      found: List[StoredArtifact] = []  # the artifact the query names does not exist (yet)
    else:
      ei = executor_input_lib.build(task.component, {}, inputs, {}, '')
      filled = executor_input_lib.fill(text, ei, f'task {task.name!r}')
      found = run.store.query(filled)[:1]
    run.produced[(task.name, key)] = found
    for artifact in found or [None]:
      run.resolved.append({
          'task': task.name, 'output': key, 'filter': text,
          'artifact': artifact.name if artifact else None,
          'producer_task': artifact.producer_task if artifact else None,
          'pipeline_run': artifact.pipeline_run if artifact else None,
          'uri': artifact.uri if artifact else None})


def run_importer(task: spec_lib.Task, run: RunContext) -> None:
  importer = task.executor['importer']
  uri_spec = importer.get('artifactUri', {})
  if 'runtimeParameter' in uri_spec:
    uri = spec_lib.constant_parameter(task, uri_spec['runtimeParameter'], run.job)
  else:
    constant = uri_spec.get('constantValue') or uri_spec.get('constant') or {}
    uri = constant.get('stringValue') if isinstance(constant, dict) else constant
  if not isinstance(uri, str) or not uri:
    raise TaskFailed(f'importer {task.name!r}: artifactUri {uri_spec!r} is not a constant or '
                     'pipeline parameter the local engine can read')
  type_schema = importer.get('typeSchema', {})
  title = executor_input_lib.schema_title(type_schema)
  local_uri = run.substitutions.local_path(uri)
  existing = None if importer.get('reimport') else run.store.find_by_uri(local_uri, title)
  artifact = existing or run.store.add(StoredArtifact(
      name=run.store.new_artifact_name(), schema_title=title, uri=local_uri,
      metadata=dict(importer.get('metadata', {})), producer_task=task.name,
      pipeline_run=run.run_id, contexts=list(run.contexts)))
  (output_key,) = task.component.get('outputDefinitions', {}).get('artifacts', {'artifact': 0})
  run.produced[(task.name, output_key)] = [artifact]


def run_container(task: spec_lib.Task, run: RunContext) -> str:
  """Runs (or reuses from cache) a container task; returns 'ran' or 'cached'."""
  container = task.executor['container']
  inputs = inputs_of(task, run)
  parameters = {key: spec_lib.constant_parameter(task, key, run.job) for key in task.parameters}
  attempt = Path(run.substitutions.local_path(run.job.pipeline_root)) / PROJECT_NUMBER / \
      run.run_id / f'{task.name}_{uuid.uuid4().hex[:12]}'
  outputs = _planned_outputs(task, run, attempt)
  output_file = attempt / 'executor_output.json'
  if 'lifecycle' in container:
    driver = container['lifecycle'].get('preCacheCheck')
    if driver is None or set(container['lifecycle']) != {'preCacheCheck'}:
      raise TaskFailed(f'task {task.name!r}: lifecycle hooks {sorted(container["lifecycle"])} '
                       'are not emulated (only preCacheCheck)')
    _execute(task, run, 'driver', container['image'], driver.get('command', []),
             driver.get('args', []), parameters, inputs, outputs, output_file)
    _merge_driver_output(output_file, parameters, outputs)
  key = caching.cache_key(run.job.pipeline_name, task.component, container, parameters, inputs)
  hit = run.store.cached(key, run.job.pipeline_name) if task.enable_cache else None
  if hit is not None:
    for output_key, names in hit.outputs.items():
      run.produced[(task.name, output_key)] = [run.store.artifacts[n] for n in names]
    return 'cached'
  _execute(task, run, 'executor', container['image'], container.get('command', []),
           container.get('args', []), parameters, inputs, outputs, output_file)
  recorded = _record_outputs(task, run, outputs, output_file)
  run.store.record_execution(CachedExecution(
      cache_key=key, task=task.name, pipeline_run=run.run_id,
      outputs={k: [a.name for a in v] for k, v in recorded.items()},
      pipeline=run.job.pipeline_name))
  run.store.save()
  return 'ran'


def _planned_outputs(task, run, attempt: Path) -> Dict[str, StoredArtifact]:
  definitions = task.component.get('outputDefinitions', {})
  if definitions.get('parameters'):
    raise TaskFailed(f'task {task.name!r} has output parameters, which the local engine does '
                     'not emulate')
  return {key: StoredArtifact(
      name=run.store.new_artifact_name(),
      schema_title=executor_input_lib.schema_title(executor_input_lib.artifact_type(definition)),
      uri=str(attempt / key), metadata={}, producer_task=task.name, pipeline_run=run.run_id,
      contexts=list(run.contexts))
          for key, definition in sorted(definitions.get('artifacts', {}).items())}


def _execute(task, run, role: str, image: str, command, args, parameters, inputs, outputs,
             output_file: Path) -> None:
  local_parameters = {k: run.substitutions.text(v) if isinstance(v, str) else v
                      for k, v in parameters.items()}
  local_inputs = {k: [dataclasses.replace(a, uri=run.substitutions.local_path(a.uri))
                      for a in v] for k, v in inputs.items()}
  ei = executor_input_lib.build(task.component, local_parameters, local_inputs, outputs,
                                str(output_file))
  where = f'task {task.name!r} ({role})'
  filled = [executor_input_lib.fill(part, ei, where) for part in args]
  argv = run.substitutions.command(image, command, filled)
  output_file.parent.mkdir(parents=True, exist_ok=True)
  log_path = run.task_log_dir / f'{task.name}.{role}.log'
  log_path.parent.mkdir(parents=True, exist_ok=True)
  environment = dict(run.environment)
  environment.update({item['name']: run.substitutions.text(item.get('value', ''))
                      for item in task.executor['container'].get('env', [])})
  with tempfile.TemporaryDirectory(prefix='vertex-local-task-') as workdir, \
      log_path.open('w') as log:
    # A fresh working directory outside the checkout: only the installed package imports.
    process = subprocess.Popen(argv, cwd=workdir, env=environment, stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    code = _wait(process, run.cancelled)
  text = log_path.read_text(errors='replace')
  run.log(f'===== {where}: exit {code}, log {log_path}\n{text}')
  if run.cancelled.is_set():
    raise TaskCancelled(f'{task.name} was cancelled (its process was stopped)')
  if code != 0:
    raise TaskFailed(f'{task.name} failed: {error_from_log(text) or f"exit code {code}"} '
                     f'(log: {log_path})')


def _wait(process: subprocess.Popen, cancelled: threading.Event) -> int:
  """The process's exit code; on cancel, its whole process group is stopped first."""
  while True:
    try:
      return process.wait(timeout=0.2)
    except subprocess.TimeoutExpired:
      if cancelled.is_set():
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, None)):
          try:
            os.killpg(process.pid, sig)
          except ProcessLookupError:
            break
          try:
            return process.wait(timeout=grace)
          except subprocess.TimeoutExpired:
            continue


def error_from_log(text: str) -> str:
  """The last exception of a Python traceback in `text`, with its message lines."""
  lines = text.rstrip().splitlines()
  for i in range(len(lines) - 1, -1, -1):
    if _EXCEPTION_LINE.match(lines[i]) and ':' in lines[i]:
      return '\n'.join(lines[i:i + 40]).strip()
  return ''


def _merge_driver_output(output_file: Path, parameters: Dict[str, Any],
                         outputs: Dict[str, StoredArtifact]) -> None:
  if not output_file.exists():
    return
  result = json.loads(output_file.read_text())
  for key, value in result.get('parameterValues', result.get('parameter_values', {})).items():
    parameters[key] = value
  for key, value in result.get('parameters', {}).items():
    if key not in parameters or key in result.get('parameterValues', {}):
      continue
    parameters[key] = next(iter(value.values()))
  for key, listed in result.get('artifacts', {}).items():
    if key in outputs and listed.get('artifacts'):
      outputs[key].metadata.update(listed['artifacts'][0].get('metadata', {}))


def _record_outputs(task, run, outputs: Mapping[str, StoredArtifact],
                    output_file: Path) -> Dict[str, List[StoredArtifact]]:
  if not output_file.exists():
    raise TaskFailed(f'{task.name} exited 0 but wrote no {output_file.name} ({output_file}); '
                     'its container did not run a TFX executor to the end')
  result = json.loads(output_file.read_text())
  recorded = {}
  for key, planned in outputs.items():
    listed = result.get('artifacts', {}).get(key, {}).get('artifacts', [])
    artifact = dataclasses.replace(planned, metadata=dict(planned.metadata))
    if listed:
      artifact.metadata.update(listed[0].get('metadata', {}))
      artifact.uri = listed[0].get('uri') or artifact.uri
    recorded[key] = [run.store.add(artifact)]
    run.produced[(task.name, key)] = recorded[key]
  return recorded
