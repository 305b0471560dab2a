"""Data a bundled dataset makes at run time instead of shipping it: `default_data_root =
"generated:<name>"` in its definition. The first run writes it under the pipeline home (the
folder `data_root` is given), deterministically, so every run and every machine reads the same
files; later runs reuse it. Nothing is downloaded."""

import os
import shutil
from pathlib import Path
from typing import Callable, Dict

from datadefs.images import digits

PREFIX = 'generated:'
# name -> writes the data into the folder it is given.
GENERATORS: Dict[str, Callable[[Path], object]] = {
    'digits': digits.write_digits,  # datadefs/images/digits.py: scikit-learn's bundled digits
}


def is_generated(root: str) -> bool:
  return root.startswith(PREFIX)


def data_root(root: str, folder: Path) -> str:
  """The folder holding generated data `root` ('generated:<name>') under `folder`, written
  there first when absent (into a temporary folder renamed when complete: an interrupted write
  is never taken for data)."""
  name = root[len(PREFIX):]
  if name not in GENERATORS:
    raise ValueError(f'default_data_root {root!r}: no such generated data (known: '
                     f'{", ".join(PREFIX + known for known in sorted(GENERATORS))})')
  target = folder / name
  if target.is_dir():
    return str(target)
  partial = folder / f'.{name}.partial-{os.getpid()}'
  shutil.rmtree(partial, ignore_errors=True)
  partial.mkdir(parents=True)
  GENERATORS[name](partial)
  try:
    partial.rename(target)
  except OSError:  # Another run wrote it meanwhile: the same files.
    shutil.rmtree(partial, ignore_errors=True)
    if not target.is_dir():
      raise
  return str(target)
