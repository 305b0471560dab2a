"""A compiled Vertex PipelineJob JSON, read as the tasks of its root DAG.

Edges come from `dependentTasks` *and* from input producers (`taskOutputArtifact`,
`taskOutputParameter`): KubeflowV2DagRunner's `-model-resolver` task has no dependentTasks, only
an input artifact from the blessing resolver. Features the local engine cannot run (sub-DAGs,
loops, conditions, ...) and malformed specs (tasks given as a list, a container without an
image, an input naming an output its producer does not have, an unknown schemaVersion) are
refused when the spec is read, naming the task and what to do. Pipeline parameters:
parameters.py.
"""

import dataclasses
import json
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from vertex_local import parameters as parameters_lib

# Task fields this engine runs; any other field of a task (triggerPolicy, iteratorPolicy, ...)
# changes what Vertex would do, so it is refused rather than ignored.
_TASK_FIELDS = {'taskInfo', 'componentRef', 'inputs', 'dependentTasks', 'cachingOptions'}
# The pipeline spec schemas TFX 1.16 and kfp write (KubeflowV2DagRunnerConfig's 2.0.0 default,
# and 2.1.0 with use_pipeline_spec_2_1).
SCHEMA_VERSIONS = ('2.0.0', '2.1.0')
# runtimeConfig.failurePolicy (PipelineFailurePolicy): by enum name or number; unset is fail slow.
FAIL_FAST = 'PIPELINE_FAILURE_POLICY_FAIL_FAST'
_POLICIES = {0: 'PIPELINE_FAILURE_POLICY_UNSPECIFIED', 1: 'PIPELINE_FAILURE_POLICY_FAIL_SLOW',
             2: FAIL_FAST}


class SpecError(ValueError):
  """The spec cannot be run by the local engine; the message names the task and the reason."""


@dataclasses.dataclass(frozen=True)
class ArtifactInput:
  producer_task: str
  output_key: str


@dataclasses.dataclass(frozen=True)
class Task:
  name: str
  component: Dict[str, Any]  # the ComponentSpec: input/outputDefinitions, executorLabel
  executor: Dict[str, Any]  # the ExecutorSpec: container, resolver or importer
  parameters: Dict[str, Any]  # input name -> the TaskInputsSpec InputParameterSpec
  artifacts: Dict[str, ArtifactInput]
  dependencies: Tuple[str, ...]  # upstream task names, from both kinds of edge
  enable_cache: bool

  @property
  def kind(self) -> str:
    return next(iter(self.executor))  # 'container', 'resolver' or 'importer'


@dataclasses.dataclass(frozen=True)
class CompiledJob:
  path: Path
  pipeline_name: str
  display_name: str
  pipeline_root: str  # runtimeConfig.gcsOutputDirectory
  # Every root parameter with a value, typed (parameters.resolve): defaults, runtimeConfig,
  # then the run's own values.
  parameter_values: Dict[str, Any]
  tasks: Dict[str, Task]
  order: Tuple[str, ...]  # a topological order of `tasks`
  root: Dict[str, Any] = dataclasses.field(default_factory=dict)  # the root ComponentSpec
  schema_version: str = '2.0.0'
  failure_policy: str = _POLICIES[0]  # runtimeConfig.failurePolicy, by enum name

  @property
  def fail_fast(self) -> bool:
    return self.failure_policy == FAIL_FAST

  def images(self) -> List[str]:
    return sorted({t.executor['container']['image'] for t in self.tasks.values()
                   if t.kind == 'container'})


def load(path: Path, parameter_values: Optional[Mapping[str, Any]] = None,
         enable_cache: Optional[bool] = None,
         failure_policy: Optional[str] = None) -> CompiledJob:
  """Reads and checks a PipelineJob JSON written by `make compile` (KubeflowV2DagRunner).

  `parameter_values` override runtimeConfig's (as PipelineJob(parameter_values=...) does);
  `enable_cache` True/False overrides every task's cachingOptions, None keeps them (as
  PipelineJob(enable_caching=...)); `failure_policy` ('slow'/'fast' or an enum name) overrides
  runtimeConfig.failurePolicy.
  """
  try:
    job = json.loads(Path(path).read_text())
  except FileNotFoundError:
    raise SpecError(f'spec file {path} does not exist: compile one with `make compile '
                    'PROFILE=<profile>` (writes build/pipeline-<profile>.json)') from None
  except json.JSONDecodeError as error:
    raise SpecError(f'spec file {path} is not JSON ({error})') from None
  if not isinstance(job, dict) or not isinstance(job.get('pipelineSpec'), dict):
    raise SpecError(f'{path} is not a compiled PipelineJob (no "pipelineSpec"): pass the JSON '
                    'that `make compile` writes')
  spec = job['pipelineSpec']
  version = spec.get('schemaVersion', '2.0.0')
  if version not in SCHEMA_VERSIONS:
    raise SpecError(f'{path}: pipeline spec schemaVersion {version!r} is not supported (the '
                    f'local engine runs {" and ".join(SCHEMA_VERSIONS)}, what TFX and kfp '
                    'write); recompile with `make compile`')
  components = spec.get('components', {})
  executors = spec.get('deploymentSpec', {}).get('executors', {})
  root = spec.get('root', {})
  if 'dag' not in root:
    raise SpecError(f'{path}: the root component has no DAG; nothing to run')
  raw_tasks = root['dag'].get('tasks', {})
  if not isinstance(raw_tasks, dict):
    raise SpecError(f'{path}: root.dag.tasks must be a map of task name to task (as '
                    f'pipeline_spec.proto declares it), got a {type(raw_tasks).__name__}')
  tasks = {name: _task(name, raw, components, executors, enable_cache)
           for name, raw in raw_tasks.items()}
  _check_outputs(tasks)
  runtime = job.get('runtimeConfig', {})
  try:
    values = parameters_lib.resolve(root, runtime, parameter_values)
  except parameters_lib.ParameterError as error:
    raise SpecError(f'{path}: {error}') from None
  return CompiledJob(
      path=Path(path), pipeline_name=spec.get('pipelineInfo', {}).get('name', ''),
      display_name=job.get('displayName', ''), pipeline_root=runtime.get('gcsOutputDirectory', ''),
      parameter_values=values, tasks=tasks, order=execution_order(tasks), root=root,
      schema_version=version,
      failure_policy=_policy(failure_policy or runtime.get('failurePolicy', 0), path))


def _policy(value: Any, path: Path) -> str:
  names = {'slow': _POLICIES[1], 'fast': FAIL_FAST, **{v: v for v in _POLICIES.values()},
           **_POLICIES}
  if value not in names:
    raise SpecError(f'{path}: failurePolicy {value!r} is not one of {sorted(_POLICIES.values())}')
  return names[value]


def _check_outputs(tasks: Mapping[str, 'Task']) -> None:
  """Every input artifact names an output its producer's component defines."""
  for task in tasks.values():
    for key, source in task.artifacts.items():
      producer = tasks.get(source.producer_task)
      if producer is None:
        continue  # execution_order names the missing task
      outputs = producer.component.get('outputDefinitions', {}).get('artifacts', {})
      if source.output_key not in outputs:
        raise SpecError(f'task {task.name!r} input {key!r} takes output '
                        f'{source.output_key!r} of task {source.producer_task!r}, which has '
                        f'no such output (it has {sorted(outputs)})')


def _task(name: str, raw: Mapping[str, Any], components, executors,
          enable_cache: Optional[bool]) -> Task:
  if not isinstance(raw, dict):
    raise SpecError(f'task {name!r} is a {type(raw).__name__}, not a task object')
  unknown = set(raw) - _TASK_FIELDS
  if unknown:
    raise SpecError(f'task {name!r} uses {sorted(unknown)}, which the local engine does not '
                    'emulate')
  component_name = raw.get('componentRef', {}).get('name')
  component = components.get(component_name)
  if component is None:
    raise SpecError(f'task {name!r} refers to component {component_name!r}, which the spec '
                    'does not define')
  if 'dag' in component:
    raise SpecError(f'task {name!r} is a sub-DAG; the local engine runs flat pipelines only')
  executor = executors.get(component.get('executorLabel'))
  if executor is None or len(executor) != 1 or next(iter(executor)) not in (
      'container', 'resolver', 'importer'):
    raise SpecError(f'task {name!r}: executor {component.get("executorLabel")!r} is not a '
                    'container, resolver or importer')
  if 'container' in executor and not executor['container'].get('image'):
    raise SpecError(f'task {name!r}: executor {component.get("executorLabel")!r} has no '
                    'container image; Vertex needs one to start the task')
  inputs = raw.get('inputs', {})
  artifacts, upstream = {}, set(raw.get('dependentTasks', []))
  for key, source in inputs.get('artifacts', {}).items():
    output = source.get('taskOutputArtifact')
    if output is None:
      raise SpecError(f'task {name!r} input artifact {key!r} is not a task output '
                      f'({sorted(source)}); the local engine cannot provide it')
    artifacts[key] = ArtifactInput(output['producerTask'], output['outputArtifactKey'])
    upstream.add(output['producerTask'])
  for key, source in inputs.get('parameters', {}).items():
    if 'taskOutputParameter' in source:
      upstream.add(source['taskOutputParameter']['producerTask'])
  return Task(name=name, component=component, executor=executor,
              parameters=dict(inputs.get('parameters', {})), artifacts=artifacts,
              dependencies=tuple(sorted(upstream)),
              enable_cache=(enable_cache if enable_cache is not None else
                            bool(raw.get('cachingOptions', {}).get('enableCache', False))))


def execution_order(tasks: Mapping[str, Task]) -> Tuple[str, ...]:
  """Kahn's algorithm, ready tasks by name: the same spec always runs in the same order."""
  for task in tasks.values():
    for upstream in task.dependencies:
      if upstream not in tasks:
        raise SpecError(f'task {task.name!r} depends on {upstream!r}, which is not a task of '
                        'the pipeline')
  remaining = {name: set(task.dependencies) for name, task in tasks.items()}
  order: List[str] = []
  while remaining:
    ready = sorted(name for name, upstream in remaining.items() if not upstream)
    if not ready:
      raise SpecError(f'tasks {sorted(remaining)} depend on each other in a cycle')
    order.append(ready[0])
    del remaining[ready[0]]
    for upstream in remaining.values():
      upstream.discard(ready[0])
  return tuple(order)


def constant_parameter(task: Task, key: str, job: CompiledJob) -> Optional[Any]:
  """A task input parameter's value as plain JSON, from a constant or a pipeline parameter,
  typed as the task's component declares it (spec 2.1 writes every number as a double)."""
  source = task.parameters[key]
  definition = task.component.get('inputDefinitions', {}).get('parameters', {}).get(key, {})
  if 'runtimeValue' in source:
    value = source['runtimeValue']
    if 'constant' in value:  # pipeline spec >= 2.1
      return _typed(task, key, value['constant'], definition)
    constant = value.get('constantValue', {})
    if constant:
      return parameters_lib.typed_value(constant)
  if 'componentInputParameter' in source:
    name = source['componentInputParameter']
    if name in job.parameter_values:
      return _typed(task, key, job.parameter_values[name], definition)
    raise SpecError(f'task {task.name!r} parameter {key!r} takes pipeline parameter {name!r}, '
                    'which has no value (no runtimeConfig value, no defaultValue): set it with '
                    f'--param {name}=VALUE')
  raise SpecError(f'task {task.name!r} parameter {key!r} has a source the local engine does '
                  f'not emulate: {sorted(source)}')


def _typed(task: Task, key: str, value: Any, definition: Mapping[str, Any]) -> Any:
  if not definition:
    return value
  try:
    return parameters_lib.coerce(key, value, parameters_lib.kind_of(definition))
  except parameters_lib.ParameterError as error:
    raise SpecError(f'task {task.name!r}: {error}') from None
