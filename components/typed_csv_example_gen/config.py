"""The column declaration of TypedCsvExampleGen and how it travels in ExampleGen's custom_config.

Types come from the declaration, never from the data: CsvExampleGen infers them per run and per
file, so a float column whose values are all whole numbers (every `tips` 0) becomes INT and is
refused downstream. The declaration rides in the same custom_config Struct as the file layout
(components/sharded_executors.example_gen_custom_config), under its own key, so the sharded
executor machinery reads the layout from it unchanged.
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from google.protobuf import struct_pb2
from tfx.proto import example_gen_pb2
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from components import sharded_executors
from core.example_files import ExampleFilesConfig
from datadefs.definition import TYPES as KINDS

COLUMN_TYPES_KEY = 'column_types'
MISSING_VALUES_KEY = 'missing_values'
# The label column (named when a file lacks it), and the columns a row needs to have a label:
# a row missing one is left out and counted (core/data_quality.py).
LABEL_COLUMN_KEY = 'label_column'
LABEL_REQUIRES_KEY = sharded_executors.LABEL_REQUIRES_KEY
# Declared type -> the tf.Example list it becomes.
_PYTHON_KINDS = {int: 'int', float: 'float', str: 'string', bytes: 'string'}


class ColumnTypesError(ValueError):
  """The column declaration is unusable; the message names the column and the bad value."""


def validate_column_types(column_types: Any) -> Dict[str, str]:
  """{column: 'int' | 'float' | 'string'}, checked; raises ColumnTypesError naming the bad entry."""
  if not isinstance(column_types, Mapping) or not column_types:
    raise ColumnTypesError(
        'column_types must be a non-empty mapping {column name: one of '
        f'{list(KINDS)}}}, got {column_types!r}')
  checked = {}
  for name, kind in column_types.items():
    if not isinstance(name, str) or not name:
      raise ColumnTypesError(
          f'column_types: every column name must be a non-empty string, got {name!r}')
    if kind not in KINDS:
      raise ColumnTypesError(
          f'column_types[{name!r}] must be one of {list(KINDS)}, got {kind!r}; declare '
          'whole numbers as "int", other numbers as "float", text as "string"')
    checked[name] = kind
  return checked


def column_types_of(python_types: Mapping[str, type]) -> Dict[str, str]:
  """The declaration for a {column: int | float | str} mapping, such as
  {'fare': float, 'company': str}."""
  declared = {}
  for name, kind in python_types.items():
    if kind not in _PYTHON_KINDS:
      raise ColumnTypesError(
          f'column {name!r}: Python type {kind!r} has no CSV type; use int, float or str')
    declared[name] = _PYTHON_KINDS[kind]
  return validate_column_types(declared)


def typed_csv_custom_config(
    column_types: Mapping[str, str],
    custom_config: Optional[example_gen_pb2.CustomConfig] = None,
    files: Optional[ExampleFilesConfig] = None,
    missing_values: Sequence[str] = (), label_column: Optional[str] = None,
    label_requires: Sequence[str] = ()) -> example_gen_pb2.CustomConfig:
  """ExampleGen's custom_config carrying the file layout, the column declaration, the cell
  texts that mean "missing" besides the empty cell (e.g. 'NA'), the label column and the
  columns without which a row has no label (left out, counted).

  Give either `custom_config` (e.g. sharded_executors.example_gen_custom_config(files), as
  pipeline/sources.py builds it) or `files`; neither means the default layout.
  """
  column_types = validate_column_types(column_types)
  missing_values = validate_missing_values(missing_values)
  label = validate_label(column_types, label_column, label_requires)
  if custom_config is not None and files is not None:
    raise ValueError('give the file layout once: custom_config or files, not both')
  if custom_config is None:
    custom_config = sharded_executors.example_gen_custom_config(files or ExampleFilesConfig())
  if not isinstance(custom_config, example_gen_pb2.CustomConfig):
    raise ValueError(
        'custom_config must be an example_gen_pb2.CustomConfig (e.g. '
        'sharded_executors.example_gen_custom_config(files)), got '
        f'{type(custom_config).__name__}: column_types are merged into it when the pipeline '
        'is defined, so a runtime parameter cannot be used here')
  values = struct_pb2.Struct()
  if custom_config.HasField('custom_config') and not custom_config.custom_config.Unpack(values):
    raise ValueError('custom_config must pack a google.protobuf.Struct (as '
                     'sharded_executors.example_gen_custom_config does), got '
                     f'{custom_config.custom_config.type_url!r}')
  if COLUMN_TYPES_KEY in values:
    raise ValueError(f'custom_config already holds {COLUMN_TYPES_KEY!r}: give column_types '
                     'once, as the column_types argument')
  # Check the layout now too, so a bad one fails when the pipeline is defined.
  ExampleFilesConfig.from_dict(dict(values.items()))
  values.update({COLUMN_TYPES_KEY: column_types, MISSING_VALUES_KEY: missing_values, **label})
  merged = example_gen_pb2.CustomConfig()
  merged.custom_config.Pack(values)
  return merged


def validate_missing_values(missing_values: Any) -> List[str]:
  if isinstance(missing_values, str) or not all(
      isinstance(text, str) for text in missing_values):
    raise ColumnTypesError(f'missing_values must be a list of cell texts such as ["NA"], got '
                           f'{missing_values!r}')
  return list(missing_values)


def validate_label(column_types: Mapping[str, str], label_column: Optional[str],
                   label_requires: Sequence[str]) -> Dict[str, Any]:
  """The label entries of custom_config, checked against the declared columns."""
  if isinstance(label_requires, str):
    raise ColumnTypesError(f'label_requires must be a list of columns, got {label_requires!r}')
  for name in ([label_column] if label_column else []) + list(label_requires):
    if name not in column_types:
      raise ColumnTypesError(f'label column {name!r} is not one of the declared columns '
                             f'{list(column_types)}')
  found = {LABEL_REQUIRES_KEY: list(label_requires)}
  if label_column:
    found[LABEL_COLUMN_KEY] = label_column
  return found


def label_from_exec_properties(exec_properties: Mapping[str, Any]) -> Tuple[Optional[str],
                                                                           List[str]]:
  """(the label column or None, the columns a row needs to have a label) in custom_config."""
  values = _custom_values(exec_properties)
  label = values[LABEL_COLUMN_KEY] if LABEL_COLUMN_KEY in values else None
  requires = list(values[LABEL_REQUIRES_KEY]) if LABEL_REQUIRES_KEY in values else []
  return label, [str(name) for name in requires]


def column_types_from_exec_properties(exec_properties: Mapping[str, Any]) -> Dict[str, str]:
  """The declaration in an execution's custom_config (JSON, as the launcher passes it)."""
  values = _custom_values(exec_properties)
  if COLUMN_TYPES_KEY not in values:
    raise ColumnTypesError(
        f'custom_config has no {COLUMN_TYPES_KEY!r}: build the component as '
        'TypedCsvExampleGen(input_base=..., column_types={...}), or its custom_config with '
        'typed_csv_custom_config(column_types, ...)')
  declared = values[COLUMN_TYPES_KEY]
  return validate_column_types(dict(declared.items()) if isinstance(
      declared, struct_pb2.Struct) else declared)


def missing_values_from_exec_properties(exec_properties: Mapping[str, Any]) -> List[str]:
  """The extra missing-value texts in an execution's custom_config ([] when absent)."""
  values = _custom_values(exec_properties)
  return validate_missing_values(list(values[MISSING_VALUES_KEY])
                                 if MISSING_VALUES_KEY in values else [])


def _custom_values(exec_properties: Mapping[str, Any]) -> struct_pb2.Struct:
  text = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
  values = struct_pb2.Struct()
  if text:
    custom_config = proto_utils.json_to_proto(text, example_gen_pb2.CustomConfig())
    if custom_config.HasField('custom_config') and not custom_config.custom_config.Unpack(
        values):
      raise ColumnTypesError('custom_config must pack a google.protobuf.Struct, got '
                             f'{custom_config.custom_config.type_url!r}')
  return values
