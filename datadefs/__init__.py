"""Datasets: each declared once in a `dataset.toml` (datadefs/definition.py).

`load('taxi')` loads a bundled one (a folder beside this file); `load('path/to/folder')` or
`load('path/to/dataset.toml')` a user's. `data_root(dataset)` says where its data is when
DATA_ROOT is unset.
"""

import difflib
import importlib.util
from pathlib import Path
from typing import List, Optional

import tomli

from datadefs import generated
from datadefs.definition import Dataset, DatasetError, parse, transformed_name

__all__ = ['Dataset', 'DatasetError', 'bundled', 'data_root', 'load', 'transformed_name']

DEFAULT = 'taxi'
DEFINITION_FILE = 'dataset.toml'
_BUNDLED = Path(__file__).resolve().parent


def bundled() -> List[str]:
  """Names of the datasets that ship with the project."""
  return sorted(path.parent.name for path in _BUNDLED.glob(f'*/{DEFINITION_FILE}'))


def load(name_or_path: str = DEFAULT) -> Dataset:
  """The checked definition of a bundled dataset (by name) or of a folder or .toml file."""
  path = Path(name_or_path)
  if name_or_path in bundled():
    path = _BUNDLED / name_or_path / DEFINITION_FILE
  elif path.is_dir():
    path = path / DEFINITION_FILE
  if not path.is_file():
    close = difflib.get_close_matches(name_or_path, bundled(), n=1)
    hint = f'did you mean {close[0]!r}? ' if close else ''
    raise DatasetError(
        f'DATASET {name_or_path!r}: no such bundled dataset ({", ".join(bundled())}) and no '
        f'{path}. {hint}Give a bundled name, or a folder holding {DEFINITION_FILE} (make one '
        'with `python -m pipeline dataset init --csv FILE --label COLUMN --out DIR`)')
  try:
    values = tomli.loads(path.read_text(encoding='utf-8'))
  except tomli.TOMLDecodeError as error:
    raise DatasetError(f'{path}: not valid TOML: {error}') from None
  return parse(values, str(path), path.parent)


def data_root(dataset: Dataset, generated_in: Optional[Path] = None) -> str:
  """The dataset's default data folder: a path relative to its definition,
  'package:<module>/<folder>' inside an installed package (e.g. palmerpenguins' data), or
  'generated:<name>', written into `generated_in` on first use (datadefs/generated.py)."""
  root = dataset.default_data_root
  if generated.is_generated(root):
    if generated_in is None:
      raise DatasetError(f'dataset {dataset.name!r}: its data ({root!r}) is made at run time '
                         'under the pipeline home; set DATA_ROOT to a folder of its data')
    return generated.data_root(root, generated_in)
  if root.startswith('package:'):
    module, _, folder = root[len('package:'):].partition('/')
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
      raise DatasetError(f'dataset {dataset.name!r}: default_data_root {root!r} needs the '
                         f'{module!r} package, which is not installed')
    return str(Path(spec.submodule_search_locations[0]) / folder)
  if not root:
    raise DatasetError(f'dataset {dataset.name!r} has no default_data_root: set DATA_ROOT to '
                       'the folder holding its CSV files')
  return str((Path(dataset.schema_path).parent / root).resolve())
