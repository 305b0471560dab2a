"""Profiles from a team's own TOML file (PROFILES_FILE), so machine types, accelerators and
resources are added without editing code. Each table is a profile: `base` names the built-in
profile it starts from (default vertex-cpu), the other keys are Profile fields:

    [a100]
    base = "vertex-gpu"
    strategy = "mirrored"
    trainer_pools = [{ machine_type = "a2-highgpu-2g", accelerator_type = "NVIDIA_TESLA_A100",
                       accelerator_count = 2 }]
    resources = { Transform = { cpu = 8, memory_gib = 32 } }
    training = { train_steps = 2000 }

The profile is then checked like a built-in one; an unknown key is refused, naming the file,
the profile and the key.
"""

import dataclasses
from pathlib import Path
from typing import Any, Dict, Mapping

import tomli

from core.names import KFP_NAME

# Fields a file may not set: the name is the table's, identity comes from the environment.
_NOT_IN_FILES = {'name'}


class ProfileFileError(ValueError):
  """The profiles file is unusable; the message names the file, profile and key."""


def read(path: str) -> Dict[str, Dict[str, Any]]:
  """{profile name: its table} from the file."""
  try:
    tables = tomli.loads(Path(path).read_text(encoding='utf-8'))
  except OSError as error:
    raise ProfileFileError(f'PROFILES_FILE {path}: cannot be read: {error}') from None
  except tomli.TOMLDecodeError as error:
    raise ProfileFileError(f'PROFILES_FILE {path}: not valid TOML: {error}') from None
  for name, table in tables.items():
    if not isinstance(table, Mapping):
      raise ProfileFileError(f'{path}: {name} must be a table ([{name}]) of profile fields')
  return tables


def overrides(path: str, name: str, table: Mapping[str, Any], profile_class, pool_class,
              resources_class, builtin: Mapping[str, dict]) -> Dict[str, Any]:
  """The Profile field values of file profile `name`: its base's, then the table's."""
  if not KFP_NAME.match(name):
    raise ProfileFileError(f'{path}: profile name {name!r} must be lower-case letters, digits '
                           'and dashes (it becomes part of the pipeline name)')
  table = dict(table)
  base = table.pop('base', 'vertex-cpu')
  if base not in builtin:
    raise ProfileFileError(f'{path}: [{name}] base {base!r} is not a built-in profile; '
                           f'known: {sorted(builtin)}')
  fields = {field.name for field in dataclasses.fields(profile_class)} - _NOT_IN_FILES
  values = dict(builtin[base])
  for key, value in table.items():
    if key not in fields:
      raise ProfileFileError(f'{path}: [{name}] {key!r} is not a profile field; known: '
                             f'{sorted(fields)}')
    values[key] = value
  try:
    if 'trainer_pools' in values and isinstance(values['trainer_pools'], list):
      values['trainer_pools'] = tuple(pool_class(**pool) for pool in values['trainer_pools'])
    if 'resources' in table:
      values['resources'] = {step: resources_class(**limits)
                             for step, limits in table['resources'].items()}
  except TypeError as error:
    raise ProfileFileError(f'{path}: [{name}]: {error}') from None
  return values
