"""Typed reads from a dataset definition's TOML tables: each error names the file and the dotted
field (`dataset.toml: columns.fare.role: must be one of [...], got 'numerc'`)."""

from typing import Any, Mapping, Optional, Tuple


class DatasetError(ValueError):
  """The definition is unusable; the message names the file and the field."""


class Fields:
  """Typed reads from one TOML table; errors name the file and the dotted field."""

  def __init__(self, values: Any, source: str, prefix: str = ''):
    if not isinstance(values, Mapping):
      raise DatasetError(f'{source}: {prefix.rstrip(".") or "the file"} must be a table')
    self.values, self.source, self.prefix, self.read = values, source, prefix, set()

  def error(self, key: str, message: str) -> DatasetError:
    return DatasetError(f'{self.source}: {self.prefix}{key}: {message}')

  def _get(self, key: str, default: Any) -> Any:
    self.read.add(key)
    if key in self.values:
      return self.values[key]
    if default is _REQUIRED:
      raise self.error(key, 'is required')
    return default

  def text(self, key: str, default: Any = None) -> str:
    value = self._get(key, _REQUIRED if default is None else default)
    if not isinstance(value, str):
      raise self.error(key, f'must be text, got {value!r}')
    return value

  def number(self, key: str, default: Any = None) -> float:
    value = self._get(key, _REQUIRED if default is None else default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
      raise self.error(key, f'must be a number, got {value!r}')
    return value

  def boolean(self, key: str, default: bool) -> bool:
    value = self._get(key, default)
    if not isinstance(value, bool):
      raise self.error(key, f'must be true or false, got {value!r}')
    return value

  def choice(self, key: str, choices: Tuple[str, ...], default: Optional[str] = None) -> str:
    value = self.text(key, default)
    if value not in choices:
      raise self.error(key, f'must be one of {list(choices)}, got {value!r}')
    return value

  def table(self, key: str) -> Mapping[str, Any]:
    value = self._get(key, _REQUIRED)
    if not isinstance(value, Mapping) or not value:
      raise self.error(key, f'must be a non-empty table, got {value!r}')
    return value

  def list_of(self, key: str, kinds, default: Any) -> list:
    value = self._get(key, default)
    if not isinstance(value, list) or any(
        isinstance(item, bool) or not isinstance(item, kinds) for item in value):
      raise self.error(key, f'must be a list of {kinds}, got {value!r}')
    return value

  def no_unknown(self) -> None:
    unknown = sorted(set(self.values) - self.read)
    if unknown:
      raise self.error(unknown[0], f'is not a known field (known: {sorted(self.read)})')


_REQUIRED = object()
