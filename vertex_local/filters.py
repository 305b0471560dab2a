"""Vertex ML Metadata artifact filters: the AIP-160 subset that TFX's KubeflowV2DagRunner emits.

Grammar (everything else is refused with FilterError, never skipped or guessed):
  filter  := clause ( "AND" clause )*
  clause  := field op value | "in_context(" string ")"
  field   := "schema_title" | "state" | "name" | "display_name" | "uri"
           | "metadata." key "." ( "number_value" | "string_value" | "bool_value" )
  op      := "=" | "!="
  value   := string (double quotes, backslash escapes) | number | bare word (LIVE, true)

`matches(filter, artifact)` evaluates a parsed filter on a StoredArtifact-like object with
`name`, `display_name`, `uri`, `schema_title`, `state`, `metadata` (dict) and `contexts` (the
context resource names it belongs to). A metadata key the artifact lacks never matches (as in
Vertex); a number compares numerically, so `number_value=1` matches 1.0.
"""

import dataclasses
import re
from typing import Any, List, Tuple, Union

_TOKEN = re.compile(r'''
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<op>!=|=)
    | (?P<lparen>\() | (?P<rparen>\))
    | (?P<word>[A-Za-z0-9_.\-+]+)
    )''', re.VERBOSE)
_FIELDS = ('schema_title', 'state', 'name', 'display_name', 'uri')
_METADATA = re.compile(r'metadata\.(?P<key>[A-Za-z0-9_\-]+)\.(?P<kind>number_value|string_value|'
                       r'bool_value)$')


class FilterError(ValueError):
  """The filter uses syntax or a field this emulation does not support; names the filter."""


@dataclasses.dataclass(frozen=True)
class Comparison:
  field: str  # a name from _FIELDS, or metadata.<key>.<kind>
  op: str  # '=' or '!='
  value: Union[str, float, bool]


@dataclasses.dataclass(frozen=True)
class InContext:
  context: str


Clause = Union[Comparison, InContext]


def parse(text: str) -> Tuple[Clause, ...]:
  """Parses a filter into its AND-ed clauses; raises FilterError naming what is unsupported."""
  tokens = _tokenize(text)
  clauses: List[Clause] = []
  position = 0
  while True:
    clause, position = _clause(tokens, position, text)
    clauses.append(clause)
    if position == len(tokens):
      return tuple(clauses)
    kind, value = tokens[position]
    if kind != 'word' or value != 'AND':
      raise FilterError(f'unsupported filter {text!r}: expected AND after a clause, got '
                        f'{value!r} (only AND-ed clauses are emulated, no OR/NOT)')
    position += 1


def matches(clauses: Tuple[Clause, ...], artifact: Any) -> bool:
  return all(_holds(clause, artifact) for clause in clauses)


def _tokenize(text: str) -> List[Tuple[str, str]]:
  tokens, position = [], 0
  while position < len(text):
    if text[position:].strip() == '':
      break
    match = _TOKEN.match(text, position)
    if not match or match.end() == position:
      raise FilterError(f'unsupported filter {text!r}: cannot read it from {text[position:]!r}')
    kind = match.lastgroup
    tokens.append((kind, match.group(kind)))
    position = match.end()
  if not tokens:
    raise FilterError('empty filter: a resolver query must name at least the schema_title')
  return tokens


def _clause(tokens, position, text) -> Tuple[Clause, int]:
  def take(i):
    if i >= len(tokens):
      raise FilterError(f'unsupported filter {text!r}: it ends in the middle of a clause')
    return tokens[i]

  kind, word = take(position)
  if kind == 'word' and word == 'in_context':
    parts = [take(position + i) for i in range(1, 4)]
    if [p[0] for p in parts] != ['lparen', 'string', 'rparen']:
      raise FilterError(f'unsupported filter {text!r}: expected in_context("<context name>")')
    return InContext(_unquote(parts[1][1])), position + 4
  if kind != 'word' or not (word in _FIELDS or _METADATA.match(word)):
    raise FilterError(f'unsupported filter {text!r}: field {word!r} is not emulated; known: '
                      f'{list(_FIELDS)} and metadata.<key>.number_value|string_value|bool_value')
  op_kind, op = take(position + 1)
  if op_kind != 'op':
    raise FilterError(f'unsupported filter {text!r}: expected = or != after {word!r}, got {op!r}')
  value_kind, raw = take(position + 2)
  if value_kind == 'string':
    value: Union[str, float, bool] = _unquote(raw)
  elif value_kind == 'word':
    value = _bare_value(word, raw, text)
  else:
    raise FilterError(f'unsupported filter {text!r}: expected a value after {word}{op}')
  return Comparison(word, op, value), position + 3


def _bare_value(field: str, raw: str, text: str) -> Union[str, float, bool]:
  if field.endswith('.number_value'):
    try:
      return float(raw)
    except ValueError:
      raise FilterError(f'unsupported filter {text!r}: {field} needs a number, got '
                        f'{raw!r}') from None
  if field.endswith('.bool_value'):
    if raw not in ('true', 'false'):
      raise FilterError(f'unsupported filter {text!r}: {field} needs true or false, got {raw!r}')
    return raw == 'true'
  return raw  # e.g. state=LIVE


def _unquote(raw: str) -> str:
  return re.sub(r'\\(.)', r'\1', raw[1:-1])


def _holds(clause: Clause, artifact: Any) -> bool:
  if isinstance(clause, InContext):
    return clause.context in artifact.contexts
  actual = _field_value(clause.field, artifact)
  if actual is _MISSING:
    return False
  equal = _equal(actual, clause.value)
  return equal if clause.op == '=' else not equal


_MISSING = object()


def _field_value(field: str, artifact: Any) -> Any:
  metadata = _METADATA.match(field)
  if not metadata:
    return getattr(artifact, field)
  value = artifact.metadata.get(metadata['key'], _MISSING)
  kind = metadata['kind']
  if value is _MISSING:
    return _MISSING
  if kind == 'number_value':
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else _MISSING
  if kind == 'bool_value':
    return value if isinstance(value, bool) else _MISSING
  return value if isinstance(value, str) else _MISSING


def _equal(actual: Any, expected: Any) -> bool:
  if isinstance(expected, float) and isinstance(actual, (int, float)):
    return float(actual) == expected
  return actual == expected
