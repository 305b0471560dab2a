"""GeneratorExampleGen's settings: one frozen dataclass, validated on construction.

The same dataclass is built twice: by the component when the pipeline is defined (so a bad
setting fails there, before anything runs) and by the executor from the execution properties.
"""

import dataclasses
import json
import math
from typing import Any, Dict, Mapping, Tuple

from components import example_files

# Keyword arguments GeneratorExampleGen passes to a generator function itself.
SHARD_INDEX_KWARG = 'shard_index'
NUM_SHARDS_KWARG = 'num_shards'

SPLIT_NAMES: Tuple[str, str] = ('train', 'eval')


class GeneratorConfigError(ValueError):
  """A GeneratorExampleGen setting is invalid; the message names it and its value."""


def _check_json_value(value: Any, where: str) -> None:
  """Raises unless `value` survives a JSON round trip unchanged; `where` names it."""
  if value is None or isinstance(value, (bool, str)):
    return
  if isinstance(value, int):
    return
  if isinstance(value, float):
    if not math.isfinite(value):
      raise GeneratorConfigError(f'{where}: {value!r} is not JSON-serialisable (NaN/inf)')
    return
  if isinstance(value, list):
    for i, item in enumerate(value):
      _check_json_value(item, f'{where}[{i}]')
    return
  if isinstance(value, dict):
    for key, item in value.items():
      if not isinstance(key, str):
        raise GeneratorConfigError(
            f'{where}: key {key!r} is not a string; JSON would turn it into {str(key)!r}')
      _check_json_value(item, f'{where}[{key!r}]')
    return
  if isinstance(value, tuple):
    raise GeneratorConfigError(
        f'{where}: {value!r} is a tuple; JSON would give the loader a list: pass a list')
  raise GeneratorConfigError(
      f'{where}: {value!r} ({type(value).__name__}) is not JSON-serialisable; loader_kwargs '
      'reach the workers as JSON: pass only None, bool, int, float, str, list and dict')


def check_loader_kwargs(loader_kwargs: Any) -> Dict[str, Any]:
  """Returns a deep copy of loader_kwargs; raises naming the first key that is not JSON."""
  if not isinstance(loader_kwargs, Mapping):
    raise GeneratorConfigError(
        f'loader_kwargs must be a dict of keyword arguments, got {loader_kwargs!r}')
  for key, value in loader_kwargs.items():
    if not isinstance(key, str) or not key.isidentifier():
      raise GeneratorConfigError(
          f'loader_kwargs: key {key!r} is not a valid keyword argument name')
    _check_json_value(value, f'loader_kwargs[{key!r}]')
  return json.loads(json.dumps(dict(loader_kwargs)))


def _check_loader_path(path: Any) -> None:
  parts = path.split('.') if isinstance(path, str) else []
  if len(parts) < 2 or not all(part.isidentifier() for part in parts):
    raise GeneratorConfigError(
        f'loader must be an import path like "my_pkg.loaders.TaxiSequence", got {path!r}')


def _check_names(field: str, names: Any) -> Tuple[str, ...]:
  if isinstance(names, str) or not isinstance(names, (list, tuple)):
    raise GeneratorConfigError(f'{field} must be a list of feature names, got {names!r}')
  for name in names:
    if not isinstance(name, str) or not name:
      raise GeneratorConfigError(f'{field}: {name!r} is not a non-empty string')
  if len(set(names)) != len(names):
    raise GeneratorConfigError(f'{field}: {list(names)!r} repeats a name')
  return tuple(names)


def _check_positive_int(field: str, value: Any) -> None:
  if isinstance(value, bool) or not isinstance(value, int) or value < 1:
    raise GeneratorConfigError(f'{field} must be an integer >= 1, got {value!r}')


@dataclasses.dataclass(frozen=True)
class GeneratorExampleGenConfig:
  """What to load and how to write it (see the package docstring for the batch formats).

  loader: import path of a Sequence class (or a function returning a Sequence) or of a
    generator function taking `shard_index` and `num_shards` keyword arguments.
  loader_kwargs: keyword arguments for the loader; JSON values only.
  feature_names: names of the arrays in `x` when x is an array (one name) or a tuple/list of
    arrays (one name each, in order). Ignored for dict x.
  label_names: the same for `y`.
  sample_weight_name: the name of the third tuple element, (x, y, sample_weight).
  raw_bytes_features: numeric features written as one bytes value per example (the row's
    little-endian, C-order buffer) instead of an int64/float list, e.g. uint8 images.
  num_partitions: how many partitions a generator function is split into (Sequence: unused).
  num_shards: files written per split.
  compression: 'gzip' (files '*.gz', the default) or 'none' (files '*.tfrecord').
  train_buckets, eval_buckets: hash buckets per split, like ExampleGen's hash_buckets.
  """
  loader: str
  loader_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
  feature_names: Tuple[str, ...] = ('x',)
  label_names: Tuple[str, ...] = ('label',)
  sample_weight_name: str = 'sample_weight'
  raw_bytes_features: Tuple[str, ...] = ()
  num_partitions: int = 4
  num_shards: int = 4
  compression: str = example_files.DEFAULT_COMPRESSION
  train_buckets: int = 2
  eval_buckets: int = 1

  def __post_init__(self):
    _check_loader_path(self.loader)
    object.__setattr__(self, 'loader_kwargs', check_loader_kwargs(self.loader_kwargs))
    for field in ('feature_names', 'label_names', 'raw_bytes_features'):
      object.__setattr__(self, field, _check_names(field, getattr(self, field)))
    if not isinstance(self.sample_weight_name, str) or not self.sample_weight_name:
      raise GeneratorConfigError(
          f'sample_weight_name must be a non-empty string, got {self.sample_weight_name!r}')
    positional = self.feature_names + self.label_names + (self.sample_weight_name,)
    clashes = sorted({name for name in positional if positional.count(name) > 1})
    if clashes:
      raise GeneratorConfigError(
          f'feature_names, label_names and sample_weight_name share the name(s) {clashes}')
    for field in ('num_partitions', 'num_shards', 'train_buckets', 'eval_buckets'):
      _check_positive_int(field, getattr(self, field))
    if self.compression not in example_files.COMPRESSIONS:
      raise GeneratorConfigError(f'compression must be one of '
                                 f'{sorted(example_files.COMPRESSIONS)}, got {self.compression!r}')

  @property
  def split_buckets(self) -> Tuple[int, int]:
    return (self.train_buckets, self.eval_buckets)

  def to_exec_properties(self) -> Dict[str, Any]:
    """Execution properties: ints stay ints; names and kwargs travel as JSON strings."""
    properties = {}
    for field in dataclasses.fields(self):
      value = getattr(self, field.name)
      if isinstance(value, (Mapping, tuple)):
        value = json.dumps(dict(value) if isinstance(value, Mapping) else list(value),
                           sort_keys=True)
      properties[field.name] = value
    return properties

  @classmethod
  def from_exec_properties(cls, properties: Mapping[str, Any]) -> 'GeneratorExampleGenConfig':
    values = {}
    for field in dataclasses.fields(cls):
      if field.name not in properties or properties[field.name] is None:
        continue
      value = properties[field.name]
      if field.name in ('loader_kwargs', 'feature_names', 'label_names', 'raw_bytes_features'):
        value = json.loads(value)
        value = value if isinstance(value, dict) else tuple(value)
      values[field.name] = value
    return cls(**values)
