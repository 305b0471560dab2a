"""Batches to named arrays, the per-feature contract the first batch fixes, tf.Examples, schema.

A batch is one of (see the package docstring):
  {name: array}                      every entry a feature
  (x,) / (x, y) / (x, y, sample_weight), tuple or list, where x and y are each
      a dict {name: array}, an array (named feature_names[0] / label_names[0]), or
      a tuple/list of arrays (named by feature_names / label_names, in order);
      sample_weight is an array named sample_weight_name; y or sample_weight may be None
  an array                           the same as (x,)
Every array's first dimension is the batch: row i of every field is example i.
"""

import dataclasses
from typing import Any, Dict, Iterator, List, Mapping, Sequence, Tuple

import numpy as np
import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2

from components.generator_example_gen import config as config_lib
from components.generator_example_gen import loading

INT64_LIST = 'int64_list'
FLOAT_LIST = 'float_list'
BYTES_LIST = 'bytes_list'
RAW_BYTES = 'raw_bytes'
STRING_DTYPE = 'string'


class BatchContractError(ValueError):
  """A batch does not match the supported formats or the contract the first batch fixed."""


@dataclasses.dataclass(frozen=True)
class FieldSpec:
  """One feature's contract: numpy dtype name ('string' for text), per-example shape, and how
  it is stored in the tf.Example."""
  name: str
  dtype: str
  shape: Tuple[int, ...]
  encoding: str

  def to_json(self) -> Dict[str, Any]:
    return {'dtype': self.dtype, 'shape': list(self.shape), 'encoding': self.encoding}


def _named(part: Any, names: Sequence[str], role: str, names_field: str,
           at: str) -> Dict[str, Any]:
  """{name: array} for x, y or sample_weight: a dict as it is, else named by `names`."""
  if part is None:
    return {}
  if isinstance(part, Mapping):
    return dict(part)
  arrays = list(part) if isinstance(part, (tuple, list)) else [part]
  if len(arrays) != len(names):
    raise BatchContractError(
        f'{at}: {role} holds {len(arrays)} array(s) but {names_field} names {len(names)} '
        f'({list(names)}); set {names_field} to one name per array, or return a dict')
  return dict(zip(names, arrays))


def named_fields(batch: Any, config: config_lib.GeneratorExampleGenConfig,
                 where: loading.Location) -> Dict[str, Any]:
  """{feature name: value} for one batch in any supported format."""
  at = where.describe()
  if isinstance(batch, Mapping):
    fields = dict(batch)
  elif isinstance(batch, (tuple, list)):
    if not 1 <= len(batch) <= 3:
      raise BatchContractError(
          f'{at}: a tuple batch must be (x,), (x, y) or (x, y, sample_weight); got '
          f'{len(batch)} elements')
    fields = _named(batch[0], config.feature_names, 'x', 'feature_names', at)
    parts = [
        _named(batch[1], config.label_names, 'y', 'label_names', at) if len(batch) > 1 else {},
        _named(batch[2], (config.sample_weight_name,), 'sample_weight', 'sample_weight_name',
               at) if len(batch) > 2 else {},
    ]
    for part in parts:
      clashes = sorted(set(fields) & set(part))
      if clashes:
        raise BatchContractError(f'{at}: the name(s) {clashes} appear in both x and y')
      fields.update(part)
  elif hasattr(batch, '__array__') or isinstance(batch, np.ndarray):
    fields = _named(batch, config.feature_names, 'x', 'feature_names', at)
  else:
    raise BatchContractError(
        f'{at}: a batch must be a dict, a tuple (x, y[, sample_weight]) or an array; got '
        f'{type(batch).__name__}')
  for name in fields:
    if not isinstance(name, str) or not name:
      raise BatchContractError(f'{at}: feature name {name!r} is not a non-empty string')
  return fields


def _dtype_name(name: str, array: np.ndarray, at: str) -> str:
  kind = array.dtype.kind
  if kind in 'biuf':
    if array.dtype == np.uint64 or array.dtype.itemsize > 8:
      raise BatchContractError(f'{at}, feature {name!r}: dtype {array.dtype} is not supported '
                               '(int64 and float32 are what tf.Example stores)')
    return array.dtype.name
  if kind in 'US':
    return STRING_DTYPE
  if kind == 'O' and all(isinstance(v, (str, bytes)) for v in array.reshape(-1)):
    return STRING_DTYPE
  raise BatchContractError(f'{at}, feature {name!r}: dtype {array.dtype} is not supported; use '
                           'bool, int, uint8-32, float, str or bytes values')


def as_arrays(fields: Mapping[str, Any], where: loading.Location
              ) -> Tuple[Dict[str, np.ndarray], Dict[str, str], int]:
  """(arrays, dtype names, row count); raises when a field has no batch dimension or the
  fields disagree on the batch size."""
  at = where.describe()
  arrays, dtypes = {}, {}
  rows = None
  first_name = None
  for name in sorted(fields):
    array = np.asarray(fields[name])
    if array.ndim == 0:
      raise BatchContractError(f'{at}, feature {name!r}: a 0-d value has no batch dimension')
    dtypes[name] = _dtype_name(name, array, at)
    if rows is None:
      rows, first_name = array.shape[0], name
    elif array.shape[0] != rows:
      raise BatchContractError(f'{at}, feature {name!r}: {array.shape[0]} rows, but feature '
                               f'{first_name!r} has {rows}')
    arrays[name] = array
  return arrays, dtypes, rows or 0


def _encoding(name: str, dtype: str, raw_bytes: Sequence[str]) -> str:
  if name in raw_bytes:
    if dtype == STRING_DTYPE:
      raise BatchContractError(f'raw_bytes_features names {name!r}, which holds strings')
    return RAW_BYTES
  if dtype == STRING_DTYPE:
    return BYTES_LIST
  return FLOAT_LIST if np.dtype(dtype).kind == 'f' else INT64_LIST


def infer_contract(batch: Any, config: config_lib.GeneratorExampleGenConfig,
                   where: loading.Location) -> Dict[str, FieldSpec]:
  """The contract every later batch must meet: names, dtypes and per-example shapes."""
  arrays, dtypes, _ = as_arrays(named_fields(batch, config, where), where)
  unknown = sorted(set(config.raw_bytes_features) - set(arrays))
  if unknown:
    raise BatchContractError(f'raw_bytes_features names {unknown}, but {where.describe()} '
                             f'(the first batch) has only {sorted(arrays)}')
  return {name: FieldSpec(name, dtypes[name], tuple(array.shape[1:]),
                          _encoding(name, dtypes[name], config.raw_bytes_features))
          for name, array in arrays.items()}


def checked_arrays(batch: Any, config: config_lib.GeneratorExampleGenConfig,
                   contract: Mapping[str, FieldSpec], where: loading.Location
                   ) -> Tuple[Dict[str, np.ndarray], int]:
  """The batch's arrays and row count; raises naming the location and field on any
  difference from the contract."""
  at = where.describe()
  arrays, dtypes, rows = as_arrays(named_fields(batch, config, where), where)
  if set(arrays) != set(contract):
    missing, extra = sorted(set(contract) - set(arrays)), sorted(set(arrays) - set(contract))
    raise BatchContractError(f'{at}: features differ from the first batch: missing {missing}, '
                             f'unexpected {extra}')
  for name, spec in contract.items():
    if dtypes[name] != spec.dtype:
      raise BatchContractError(f'{at}, feature {name!r}: dtype {dtypes[name]} differs from '
                               f'{spec.dtype} seen first')
    shape = tuple(arrays[name].shape[1:])
    if shape != spec.shape:
      raise BatchContractError(f'{at}, feature {name!r}: shape {shape} differs from '
                               f'{spec.shape} seen first')
  return arrays, rows


def _feature_lists(array: np.ndarray, spec: FieldSpec) -> List[tf.train.Feature]:
  rows = array.shape[0]
  if spec.encoding == RAW_BYTES:
    little_endian = array.astype(array.dtype.newbyteorder('<'), copy=False)
    return [tf.train.Feature(bytes_list=tf.train.BytesList(
        value=[np.ascontiguousarray(row).tobytes()])) for row in little_endian]
  flat = array.reshape(rows, -1)
  if spec.encoding == BYTES_LIST:
    return [tf.train.Feature(bytes_list=tf.train.BytesList(
        value=[v.encode('utf-8') if isinstance(v, str) else bytes(v) for v in row]))
            for row in flat.tolist()]
  if spec.encoding == FLOAT_LIST:
    return [tf.train.Feature(float_list=tf.train.FloatList(value=row))
            for row in flat.astype(np.float32).tolist()]
  return [tf.train.Feature(int64_list=tf.train.Int64List(value=row))
          for row in flat.astype(np.int64).tolist()]


def to_examples(arrays: Mapping[str, np.ndarray], rows: int,
                contract: Mapping[str, FieldSpec]) -> Iterator[tf.train.Example]:
  """One tf.Example per row."""
  columns = {name: _feature_lists(arrays[name], spec) for name, spec in contract.items()}
  for row in range(rows):
    yield tf.train.Example(features=tf.train.Features(
        feature={name: column[row] for name, column in columns.items()}))


def contract_schema(contract: Mapping[str, FieldSpec]) -> schema_pb2.Schema:
  """A schema with each feature's fixed shape, so TFT/parse_example restore the arrays."""
  schema = schema_pb2.Schema()
  for name in sorted(contract):
    spec = contract[name]
    feature = schema.feature.add(name=name)
    feature.presence.min_fraction = 1.0
    feature.presence.min_count = 1
    feature.shape.SetInParent()  # Scalars and raw_bytes features: shape [] (one value).
    if spec.encoding == RAW_BYTES:
      feature.type = schema_pb2.BYTES
      annotation = feature.annotation
      annotation.tag.append(RAW_BYTES)
      annotation.comment.append(f'{spec.dtype} {list(spec.shape)}, little-endian, C order: '
                                'tf.io.decode_raw then reshape')
      continue
    for size in spec.shape:
      feature.shape.dim.add(size=size)
    if spec.encoding == BYTES_LIST:
      feature.type = schema_pb2.BYTES
    elif spec.encoding == FLOAT_LIST:
      feature.type = schema_pb2.FLOAT
    else:
      feature.type = schema_pb2.INT
      if spec.dtype == 'bool':
        feature.bool_domain.SetInParent()
  return schema
