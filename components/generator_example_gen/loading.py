"""Imports a loader by path and reads its batches, one Beam work unit at a time.

A work unit is one Sequence batch index, or one generator partition. Every batch carries a
`Location` that names where it came from in errors and keys the train/eval hash split.
"""

import dataclasses
import importlib
import inspect
from typing import Any, Iterator, Optional, Tuple

from components.generator_example_gen import config as config_lib

SEQUENCE = 'sequence'
GENERATOR = 'generator'


class LoaderError(ValueError):
  """The loader cannot be imported, built or read; the message names its import path."""


@dataclasses.dataclass(frozen=True)
class Location:
  """Where a batch came from: Sequence batch `unit`, or generator partition `unit` element."""
  kind: str
  unit: int
  element: Optional[int] = None

  def describe(self) -> str:
    if self.kind == SEQUENCE:
      return f'batch {self.unit}'
    return f'partition {self.unit}, element {self.element}'

  def split_key(self, row: int) -> bytes:
    """The bytes hashed to pick a row's split: its position, never its content."""
    if self.kind == SEQUENCE:
      return f'{self.unit}:{row}'.encode()
    return f'{self.unit}:{self.element}:{row}'.encode()


def import_object(path: str) -> Any:
  """Imports 'pkg.module.Name' (or 'pkg.module.Class.attr'); raises LoaderError naming it."""
  parts = path.split('.')
  module = None
  attr_start = len(parts)
  for end in range(len(parts) - 1, 0, -1):
    module_name = '.'.join(parts[:end])
    try:
      module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
      # Only a missing prefix of the path means "try a shorter module"; a module that exists
      # but imports something missing is the loader's own error.
      if e.name is not None and (module_name + '.').startswith(e.name + '.'):
        continue
      raise LoaderError(f'cannot import loader {path!r}: importing {module_name!r} failed: '
                        f'{e}') from e
    except ImportError as e:
      raise LoaderError(f'cannot import loader {path!r}: importing {module_name!r} failed: '
                        f'{e}') from e
    attr_start = end
    break
  if module is None:
    raise LoaderError(f'cannot import loader {path!r}: no module {parts[0]!r} is importable')
  obj = module
  for depth, name in enumerate(parts[attr_start:], start=attr_start):
    if not hasattr(obj, name):
      raise LoaderError(f'cannot import loader {path!r}: {".".join(parts[:depth])!r} has no '
                        f'attribute {name!r}')
    obj = getattr(obj, name)
  return obj


def _is_sequence(obj: Any) -> bool:
  return hasattr(obj, '__len__') and hasattr(obj, '__getitem__')


class Loader:
  """An imported loader: a built Sequence, or a generator function and its partition count."""

  def __init__(self, config: config_lib.GeneratorExampleGenConfig):
    self._config = config
    self._kwargs = dict(config.loader_kwargs)
    target = import_object(config.loader)
    self._function = None
    self._sequence = None
    if inspect.isgeneratorfunction(target):
      self._function = target
      self.kind = GENERATOR
      self._check_generator_signature()
      return
    if not callable(target):
      raise LoaderError(f'loader {config.loader!r} is a {type(target).__name__}, not a '
                        'Sequence class, a function returning one, or a generator function')
    try:
      built = target(**self._kwargs)
    except TypeError as e:
      raise LoaderError(f'loader {config.loader!r} rejected loader_kwargs '
                        f'{sorted(self._kwargs)}: {e}') from e
    if not _is_sequence(built):
      raise LoaderError(
          f'loader {config.loader!r} built a {type(built).__name__}, which has no __len__ and '
          '__getitem__; a generator loader must be a generator function (def ... yield) '
          f'taking {config_lib.SHARD_INDEX_KWARG} and {config_lib.NUM_SHARDS_KWARG}')
    self._sequence = built
    self.kind = SEQUENCE

  def _check_generator_signature(self) -> None:
    reserved = {config_lib.SHARD_INDEX_KWARG, config_lib.NUM_SHARDS_KWARG}
    clashes = sorted(reserved & set(self._kwargs))
    if clashes:
      raise LoaderError(f'loader_kwargs[{clashes[0]!r}]: GeneratorExampleGen passes '
                        f'{clashes[0]} to generator {self._config.loader!r} itself; remove it')
    params = inspect.signature(self._function).parameters
    takes_any = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values())
    missing = sorted(name for name in reserved if name not in params)
    if missing and not takes_any:
      raise LoaderError(f'generator {self._config.loader!r} must accept keyword arguments '
                        f'{config_lib.SHARD_INDEX_KWARG} and {config_lib.NUM_SHARDS_KWARG}; '
                        f'it lacks {missing}')

  def num_units(self) -> int:
    """Sequence: len(sequence) batches; generator: config.num_partitions partitions."""
    if self.kind == GENERATOR:
      return self._config.num_partitions
    length = len(self._sequence)
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
      raise LoaderError(f'loader {self._config.loader!r}: len() gave {length!r}')
    return length

  def read_unit(self, unit: int) -> Iterator[Tuple[Location, Any]]:
    """Yields (location, batch) for every batch of one work unit."""
    if self.kind == SEQUENCE:
      yield Location(SEQUENCE, unit), self._sequence[unit]
      return
    batches = self._function(**self._kwargs, shard_index=unit,
                             num_shards=self._config.num_partitions)
    for element, batch in enumerate(batches):
      yield Location(GENERATOR, unit, element), batch

  def first_batch(self) -> Tuple[Location, Any]:
    """The batch that fixes the contract: batch 0, or the first yield of the first non-empty
    partition. Raises LoaderError when the loader has no batches at all."""
    for unit in range(self.num_units()):
      for located in self.read_unit(unit):
        return located
    raise LoaderError(f'loader {self._config.loader!r} produced no batches')
