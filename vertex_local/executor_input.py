"""The ExecutorInput a Vertex task receives as `{{$}}`, built as Vertex builds it.

- Parameters twice: `parameters` (pipeline spec 2.0 Values: stringValue/intValue/doubleValue,
  which TFX's entrypoint reads when no inputs spec is passed) and `parameter_values` (plain
  protobuf Values, spec 2.1).
- Every artifact, input and output, with `name`, `type`, `uri` and `metadata`: TFX hashes the
  name into the artifact id and maps ids back to names (the Evaluator's `current_model_id`),
  and recovers the artifact class from the type's schema title.
- `outputFile`: `executor_output.json` in the task attempt's own, fresh directory; TFX takes
  that directory's name as the execution's unique id and keeps its temp files under it.
"""

import json
import re
from typing import Any, Dict, List, Mapping

import yaml

from vertex_local.store import StoredArtifact


class PlaceholderError(ValueError):
  """A placeholder in a command, argument or filter that the local engine cannot fill."""


def parameter_type(task_component: Mapping[str, Any], key: str, value: Any = None) -> str:
  """'STRING', 'INT', 'DOUBLE', 'BOOLEAN', 'STRUCT' or 'LIST' from the component definition;
  for a parameter the definition lacks (span, fingerprint: merged in by the ExampleGen
  driver), from the value, as Vertex types a driver's output."""
  definition = task_component.get('inputDefinitions', {}).get('parameters', {}).get(key, {})
  kind = definition.get('type') or definition.get('parameterType')
  if kind is None:
    if isinstance(value, bool):
      kind = 'BOOLEAN'
    elif isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
      kind = 'INT'
    elif isinstance(value, float):
      kind = 'DOUBLE'
    else:
      kind = 'STRING'
  return {'NUMBER_INTEGER': 'INT', 'NUMBER_DOUBLE': 'DOUBLE'}.get(kind, kind)


def artifact_type(definition: Mapping[str, Any]) -> Dict[str, str]:
  """The ArtifactTypeSchema of an input/output definition (instanceSchema or schemaTitle)."""
  schema = definition.get('artifactType', {})
  if 'instanceSchema' in schema:
    return {'instanceSchema': schema['instanceSchema']}
  return {'schemaTitle': schema.get('schemaTitle', 'system.Artifact')}


def schema_title(type_schema: Mapping[str, str]) -> str:
  if 'schemaTitle' in type_schema:
    return type_schema['schemaTitle']
  return (yaml.safe_load(type_schema['instanceSchema']) or {}).get('title', 'tfx.Artifact')


def runtime_artifact(artifact: StoredArtifact, type_schema: Mapping[str, str]) -> Dict[str, Any]:
  return {'name': artifact.name, 'type': dict(type_schema), 'uri': artifact.uri,
          'metadata': dict(artifact.metadata)}


def build(component: Mapping[str, Any], parameters: Mapping[str, Any],
          inputs: Mapping[str, List[StoredArtifact]], outputs: Mapping[str, StoredArtifact],
          output_file: str) -> Dict[str, Any]:
  """ExecutorInput as JSON-ready dict. `parameters` holds plain values (str, int, float, ...)."""
  input_definitions = component.get('inputDefinitions', {}).get('artifacts', {})
  output_definitions = component.get('outputDefinitions', {}).get('artifacts', {})
  legacy, values = {}, {}
  for key, value in sorted(parameters.items()):
    kind = parameter_type(component, key, value)
    values[key] = value
    if kind == 'INT':
      legacy[key] = {'intValue': str(int(value))}
    elif kind == 'DOUBLE':
      legacy[key] = {'doubleValue': float(value)}
    elif kind == 'STRING':
      legacy[key] = {'stringValue': value if isinstance(value, str) else json.dumps(value)}
  input_artifacts = {
      key: {'artifacts': [runtime_artifact(a, artifact_type(input_definitions.get(key, {})))
                          for a in artifacts]}
      for key, artifacts in sorted(inputs.items()) if artifacts}
  output_artifacts = {
      key: {'artifacts': [runtime_artifact(a, artifact_type(output_definitions[key]))]}
      for key, a in sorted(outputs.items())}
  return {
      'inputs': {'parameters': legacy, 'parameter_values': values, 'artifacts': input_artifacts},
      'outputs': {'artifacts': output_artifacts, 'outputFile': output_file},
  }


_PLACEHOLDER = re.compile(r'\{\{\$(?P<path>[^}]*)\}\}')
_PATTERNS = [  # (regex over the path after '$', how to read it from the ExecutorInput)
    (r"\.inputs\.parameters\['(?P<k>[^']+)'\]",
     lambda ei, m: _text(ei['inputs']['parameter_values'][m['k']])),
    (r"\.inputs\.artifacts\['(?P<k>[^']+)'\]\.uri",
     lambda ei, m: ei['inputs']['artifacts'][m['k']]['artifacts'][0]['uri']),
    (r"\.inputs\.artifacts\['(?P<k>[^']+)'\]\.metadata\['(?P<f>[^']+)'\]",
     lambda ei, m: _text(ei['inputs']['artifacts'][m['k']]['artifacts'][0]['metadata'][m['f']])),
    (r"\.outputs\.artifacts\['(?P<k>[^']+)'\]\.uri",
     lambda ei, m: ei['outputs']['artifacts'][m['k']]['artifacts'][0]['uri']),
    (r"\.outputs\.output_file", lambda ei, m: ei['outputs']['outputFile']),
]


def fill(text: str, executor_input: Mapping[str, Any], where: str) -> str:
  """Replaces every `{{$...}}` placeholder in `text`; raises PlaceholderError naming `where`
  (the task) for one the engine does not know or cannot fill, instead of passing it through."""
  def replace(match):
    path = match['path']
    if path == '':
      return json.dumps(executor_input, sort_keys=True)
    for pattern, read in _PATTERNS:
      found = re.fullmatch(pattern, path)
      if found:
        try:
          return read(executor_input, found)
        except (KeyError, IndexError):
          raise PlaceholderError(
              f'{where}: placeholder {match.group(0)} names an input or output that this task '
              'does not have (or an artifact without that metadata)') from None
    raise PlaceholderError(f'{where}: placeholder {match.group(0)} is not emulated by the local '
                           'engine')

  return _PLACEHOLDER.sub(replace, text)


def _text(value: Any) -> str:
  if isinstance(value, float) and value.is_integer():
    return str(int(value))
  return value if isinstance(value, str) else json.dumps(value)
