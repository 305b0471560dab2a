"""Pipeline parameters of a compiled PipelineJob, resolved as Vertex AI resolves them.

A task input `{"componentInputParameter": "X"}` takes the root's input parameter X. Its value is,
in increasing precedence (KFP pipeline_spec.proto; aiplatform's pipeline_utils):
  1. the root `inputDefinitions.parameters[X].defaultValue` (plain JSON; TFX never writes one);
  2. `runtimeConfig.parameters[X]`, typed for schema 2.0.0 (`{"intValue": "6"}`, `stringValue`,
     `doubleValue`), which TFX 1.16 and aiplatform write for 2.0.0 specs;
  3. `runtimeConfig.parameterValues[X]`, plain JSON (schema 2.1.0);
  4. what the run is given: `--param X=VALUE`, or a submitted job's runtime config.
Values are coerced to the declared type: STRING/INT/DOUBLE (2.0.0), STRING/NUMBER_INTEGER/
NUMBER_DOUBLE/BOOLEAN/STRUCT/LIST (2.1.0). A name the root does not declare is refused as
aiplatform refuses it.
"""

import json
from typing import Any, Dict, Mapping, Optional

_KINDS = {'STRING': 'STRING', 'INT': 'INT', 'DOUBLE': 'DOUBLE', 'NUMBER_INTEGER': 'INT',
          'NUMBER_DOUBLE': 'DOUBLE', 'BOOLEAN': 'BOOLEAN', 'STRUCT': 'STRUCT', 'LIST': 'LIST'}


class ParameterError(ValueError):
  """A pipeline parameter's value is missing, undeclared or of the wrong type."""


def declared(root: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
  """{name: its ParameterSpec} of the root component's input parameters."""
  return dict(root.get('inputDefinitions', {}).get('parameters', {}))


def kind_of(spec: Mapping[str, Any]) -> str:
  """'STRING', 'INT', 'DOUBLE', 'BOOLEAN', 'STRUCT' or 'LIST' of a ParameterSpec."""
  kind = spec.get('parameterType') or spec.get('type') or 'STRING'
  if kind not in _KINDS:
    raise ParameterError(f'parameter type {kind!r} is not a KFP parameter type')
  return _KINDS[kind]


def typed_value(value: Mapping[str, Any]) -> Any:
  """A schema 2.0.0 typed Value ({"intValue": "6"}: int64 is a JSON string) as plain JSON."""
  if 'intValue' in value:
    return int(value['intValue'])
  if 'doubleValue' in value:
    return float(value['doubleValue'])
  if 'stringValue' in value:
    return value['stringValue']
  raise ParameterError(f'runtime value {dict(value)!r} is not an intValue, doubleValue or '
                       'stringValue')


def coerce(name: str, value: Any, kind: str) -> Any:
  """`value` (plain JSON, or the text of --param NAME=VALUE) as the declared `kind`."""
  try:
    if kind == 'STRING':
      return value if isinstance(value, str) else json.dumps(value)
    if kind in ('INT', 'DOUBLE') and isinstance(value, bool):
      raise ValueError(value)
    if kind == 'INT':
      if isinstance(value, float) and not value.is_integer():
        raise ValueError(value)
      return int(value)
    if kind == 'DOUBLE':
      return float(value)
    if kind == 'BOOLEAN':
      if isinstance(value, bool):
        return value
      if str(value).lower() in ('true', 'false'):
        return str(value).lower() == 'true'
      raise ValueError(value)
    parsed = json.loads(value) if isinstance(value, str) else value
    if not isinstance(parsed, dict if kind == 'STRUCT' else list):
      raise ValueError(value)
    return parsed
  except (ValueError, TypeError):
    what = {'INT': 'a whole number', 'DOUBLE': 'a number', 'BOOLEAN': 'true or false',
            'STRUCT': 'a JSON object', 'LIST': 'a JSON list'}[kind]
    raise ParameterError(f'pipeline parameter {name!r} is declared {kind}: {value!r} is not '
                         f'{what}') from None


def resolve(root: Mapping[str, Any], runtime_config: Mapping[str, Any],
            overrides: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
  """{name: value} of every root parameter that has a value (steps 1-4 above), typed."""
  specs = declared(root)
  values: Dict[str, Any] = {}
  for name, spec in specs.items():
    if 'defaultValue' in spec:
      values[name] = spec['defaultValue']
  for name, value in runtime_config.get('parameters', {}).items():
    values[name] = typed_value(value)
  values.update(runtime_config.get('parameterValues', {}))
  for name in list(values) + list(overrides or {}):
    if name not in specs:
      raise ParameterError(f'The pipeline parameter {name} is not found in the pipeline job '
                           f'input definitions (it declares {sorted(specs) or "none"}).')
  values.update(overrides or {})
  return {name: coerce(name, value, kind_of(specs[name])) for name, value in values.items()}


def missing(root: Mapping[str, Any], values: Mapping[str, Any]) -> Dict[str, str]:
  """{name: type} of the declared, required parameters that have no value."""
  return {name: kind_of(spec) for name, spec in declared(root).items()
          if name not in values and not spec.get('isOptional')}
