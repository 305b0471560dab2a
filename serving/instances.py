"""What a client sends, as the serialized tf.Examples the model's serving_default parses.

An instance is a raw row, as the data has it: a JSON object {column: value} (the label may be
there or not: it is ignored), or a CSV line (batch.py reads CSV files into rows of text). Each
value is typed as the dataset definition declares its column ('int', 'float', 'string'); null,
an absent column or an empty/missing-value text is a missing value, written as ExampleGen writes
one (an empty list). The tf.Examples are encoded by the same code ExampleGen uses
(datadefs/tabular/examples.py), so a row served is the row trained on. An instance may also be
{"b64": "<base64 of a serialized tf.Example>"}, TF Serving's form for binary input.

For an image dataset an instance is one encoded image (JPEG, PNG, BMP, GIF): {"b64": "<base64 of
the file's bytes>"}, or {"image_bytes": {"b64": ...}}, naming the serving_bytes signature's input
as a TF Serving request may (to_image_bytes).
"""

import base64
import binascii
import math
from typing import Any, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa

from datadefs.definition import Dataset
from datadefs.images.spec import SERVING_BYTES_INPUT
from datadefs.tabular import examples as examples_lib

_ARROW = {'int': pa.int64(), 'float': pa.float32(), 'string': pa.string()}


class InstanceError(ValueError):
  """One instance cannot be turned into a tf.Example; the message names the column and value."""


def feature_types(dataset: Dataset) -> Mapping[str, str]:
  """{column: kind} of the columns a prediction reads: every declared column but the label."""
  return {name: kind for name, kind in dataset.column_types.items()
          if name != dataset.label.column}


def _typed(name: str, kind: str, value: Any, missing: Sequence[str]) -> Any:
  if value is None or (isinstance(value, str) and (value == '' or value in missing)):
    return None
  if kind == 'string':
    if isinstance(value, (dict, list)):
      raise InstanceError(f'column {name!r} is declared "string": {value!r} is not a text')
    return value if isinstance(value, str) else (
        str(int(value)) if isinstance(value, float) and value.is_integer() else str(value))
  try:
    if isinstance(value, (bool, dict, list)):
      raise ValueError(value)
    if kind == 'int':
      if isinstance(value, float) and value.is_integer():
        return int(value)
      if isinstance(value, (int, str)):
        return int(value.strip() if isinstance(value, str) else value)
      raise ValueError(value)
    number = float(value)
  except (ValueError, OverflowError):
    raise InstanceError(f'column {name!r}: {value!r} is not a number (declared "{kind}")') \
        from None
  if not math.isfinite(number) or not np.isfinite(np.float32(number)):
    raise InstanceError(f'column {name!r}: {value!r} is not a finite 32-bit float')
  return number


def typed_row(row: Mapping[str, Any], dataset: Dataset) -> dict:
  """A raw row as {column: typed value or None}; InstanceError for an unknown column or a
  value that is not of its column's type."""
  if not isinstance(row, Mapping):
    raise InstanceError(f'an instance is a JSON object of column values (or {{"b64": ...}}), '
                        f'got {type(row).__name__} {row!r:.80}')
  types = feature_types(dataset)
  unknown = sorted(set(row) - set(types) - {dataset.label.column})
  if unknown:
    raise InstanceError(f'column(s) {unknown} are not columns of dataset {dataset.name!r} '
                        f'(it has {sorted(types)})')
  return {name: _typed(name, kind, row.get(name), dataset.missing_values)
          for name, kind in types.items()}


def serialize(rows: Sequence[Mapping[str, Any]], dataset: Dataset) -> List[bytes]:
  """Serialized tf.Examples of typed rows (typed_row), as ExampleGen writes them."""
  types = feature_types(dataset)
  arrays = [pa.array([row[name] for row in rows], _ARROW[kind]) for name, kind in types.items()]
  batch = pa.RecordBatch.from_arrays(arrays, list(types))
  return examples_lib.serialize_examples(batch, types)


def to_examples(instances: Sequence[Any], dataset: Dataset
                ) -> Tuple[List[Optional[bytes]], List[Optional[str]]]:
  """(serialized tf.Example or None, error or None) per instance."""
  examples: List[Optional[bytes]] = [None] * len(instances)
  errors: List[Optional[str]] = [None] * len(instances)
  rows, where = [], []
  for index, instance in enumerate(instances):
    try:
      if isinstance(instance, Mapping) and set(instance) == {'b64'}:
        examples[index] = base64.b64decode(instance['b64'], validate=True)
      else:
        rows.append(typed_row(instance, dataset))
        where.append(index)
    except (InstanceError, binascii.Error, TypeError) as error:
      errors[index] = str(error) if isinstance(error, InstanceError) else (
          f'"b64" is not base64: {error}')
  for index, example in zip(where, serialize(rows, dataset) if rows else []):
    examples[index] = example
  return examples, errors


def to_image_bytes(instances: Sequence[Any]) -> Tuple[List[Optional[bytes]], List[Optional[str]]]:
  """(the encoded image or None, error or None) per instance of an image dataset."""
  images: List[Optional[bytes]] = [None] * len(instances)
  errors: List[Optional[str]] = [None] * len(instances)
  for index, instance in enumerate(instances):
    if isinstance(instance, Mapping) and set(instance) == {SERVING_BYTES_INPUT}:
      instance = instance[SERVING_BYTES_INPUT]
    if not (isinstance(instance, Mapping) and set(instance) == {'b64'}):
      errors[index] = (f'an image instance is {{"b64": "<base64 of the image file>"}} (or '
                       f'{{"{SERVING_BYTES_INPUT}": {{"b64": ...}}}}), got {instance!r:.80}')
      continue
    try:
      images[index] = base64.b64decode(instance['b64'], validate=True)
    except (binascii.Error, TypeError) as error:
      errors[index] = f'"b64" is not base64: {error}'
  return images, errors
