"""A compiled Vertex PipelineJob JSON, read as the tasks of its root DAG, in execution order.

Edges come from `dependentTasks` *and* from input producers (`taskOutputArtifact`,
`taskOutputParameter`): KubeflowV2DagRunner's `-model-resolver` task has no dependentTasks, only
an input artifact from the blessing resolver. Features the local engine cannot run (sub-DAGs,
loops, conditions, ...) are refused when the spec is read, naming the task.
"""

import dataclasses
import json
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

# Task fields this engine runs; any other field of a task (triggerPolicy, iteratorPolicy, ...)
# changes what Vertex would do, so it is refused rather than ignored.
_TASK_FIELDS = {'taskInfo', 'componentRef', 'inputs', 'dependentTasks', 'cachingOptions'}


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
  parameter_values: Dict[str, Any]  # runtimeConfig.parameterValues
  tasks: Dict[str, Task]
  order: Tuple[str, ...]  # a topological order of `tasks`

  def images(self) -> List[str]:
    return sorted({t.executor['container']['image'] for t in self.tasks.values()
                   if t.kind == 'container'})


def load(path: Path) -> CompiledJob:
  """Reads and checks a PipelineJob JSON written by `make compile` (KubeflowV2DagRunner)."""
  try:
    job = json.loads(Path(path).read_text())
  except FileNotFoundError:
    raise SpecError(f'spec file {path} does not exist: compile one with `make compile '
                    'PROFILE=<profile>` (writes build/pipeline-<profile>.json)') from None
  except json.JSONDecodeError as error:
    raise SpecError(f'spec file {path} is not JSON ({error})') from None
  if 'pipelineSpec' not in job:
    raise SpecError(f'{path} is not a compiled PipelineJob (no "pipelineSpec"): pass the JSON '
                    'that `make compile` writes')
  spec = job['pipelineSpec']
  components = spec.get('components', {})
  executors = spec.get('deploymentSpec', {}).get('executors', {})
  root = spec.get('root', {})
  if 'dag' not in root:
    raise SpecError(f'{path}: the root component has no DAG; nothing to run')
  tasks = {name: _task(name, raw, components, executors)
           for name, raw in root['dag'].get('tasks', {}).items()}
  runtime = job.get('runtimeConfig', {})
  return CompiledJob(
      path=Path(path), pipeline_name=spec.get('pipelineInfo', {}).get('name', ''),
      display_name=job.get('displayName', ''), pipeline_root=runtime.get('gcsOutputDirectory', ''),
      parameter_values=dict(runtime.get('parameterValues', {})), tasks=tasks,
      order=execution_order(tasks))


def _task(name: str, raw: Mapping[str, Any], components, executors) -> Task:
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
              enable_cache=bool(raw.get('cachingOptions', {}).get('enableCache', False)))


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
  """A task input parameter's value as plain JSON, from a constant or a pipeline parameter."""
  source = task.parameters[key]
  if 'runtimeValue' in source:
    value = source['runtimeValue']
    if 'constant' in value:  # pipeline spec >= 2.1
      return value['constant']
    constant = value.get('constantValue', {})
    if 'stringValue' in constant:
      return constant['stringValue']
    if 'intValue' in constant:
      return int(constant['intValue'])
    if 'doubleValue' in constant:
      return float(constant['doubleValue'])
  if 'componentInputParameter' in source:
    name = source['componentInputParameter']
    if name in job.parameter_values:
      return job.parameter_values[name]
    raise SpecError(f'task {task.name!r} parameter {key!r} takes pipeline parameter {name!r}, '
                    'which runtimeConfig.parameterValues does not set')
  raise SpecError(f'task {task.name!r} parameter {key!r} has a source the local engine does '
                  f'not emulate: {sorted(source)}')
