"""The `filter` of List requests, for the equality terms clients send: `display_name="taxi"`,
`labels.team=ml`, `state="PIPELINE_STATE_SUCCEEDED"`, joined by AND (AIP-160's simplest form).

Anything else is an INVALID_ARGUMENT naming what is supported, rather than a silently wrong
listing.
"""

import re
from typing import Any, Callable, List, Sequence, Tuple

import grpc

from vertex_local.api.rpc import RpcError

_TERM = re.compile(r'^\s*([\w.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s"]+)\s*$')


def parse_filter(text: str, fields: Sequence[str] = ('display_name', 'labels')
                 ) -> List[Tuple[str, str]]:
  """[(field, value)] of a filter such as 'display_name="taxi" AND labels.team=ml'; `fields`
  are the fields that may be compared ('labels' allows every labels.<key>)."""
  terms = []
  for term in re.split(r'\s+AND\s+', text.strip()) if text.strip() else []:
    match = _TERM.match(term)
    field = match.group(1) if match else ''
    known = field in fields or ('labels' in fields and re.fullmatch(r'labels\.[\w-]+', field))
    if not match or not known:
      allowed = ', '.join(f'{name}="..."' if name != 'labels' else 'labels.<key>="..."'
                          for name in fields)
      raise RpcError(grpc.StatusCode.INVALID_ARGUMENT,
                     f'filter term {term!r} is not supported by the local Vertex AI: use '
                     f'{allowed}, joined by AND.')
    value = match.group(2)
    if value.startswith('"'):
      value = re.sub(r'\\(.)', r'\1', value[1:-1])
    terms.append((field, value))
  return terms


def matches(terms: List[Tuple[str, str]], value_of: Callable[[str], Any]) -> bool:
  return all(value_of(field) == value for field, value in terms)
