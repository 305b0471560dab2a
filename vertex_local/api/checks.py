"""What Vertex AI refuses in a request before anything runs, with its error texts: an unknown
region (aiplatform's own list, `utils.validate_region`'s message), an unknown machine type, and
an accelerator its machine type does not take (the catalogue in core/accelerators.py, the one
profiles are checked against).

Vertex's field errors read `List of found errors:\\t1.Field: <path>; Message: <message>`
(INVALID_ARGUMENT), e.g. `Accelerator "NVIDIA_TESLA_K80" is not supported for machine type
"n1-standard-4"`; the wording for an unknown machine type or a wrong count is ours, in that
shape.
"""

import functools
import re
from typing import FrozenSet, List, Tuple

import grpc

from core import accelerators
from vertex_local.api.rpc import RpcError

_LOCATION = re.compile(r'^projects/[^/]+/locations/(?P<location>[^/]+)')


@functools.lru_cache(maxsize=1)
def supported_regions() -> Tuple[FrozenSet[str], Tuple[str, ...]]:
  """(regions, multi-region jurisdictions) aiplatform 1.165.1 knows (its constants; imported
  on first use: it loads the whole SDK, seconds)."""
  from google.cloud.aiplatform.constants import base  # pylint: disable=import-outside-toplevel
  return frozenset(base.SUPPORTED_REGIONS), tuple(base.MREP_JURISDICTIONS)


def check_region(name: str) -> str:
  """The location of resource `name` (projects/<p>/locations/<l>/...), if Vertex has it."""
  match = _LOCATION.match(name)
  if not match:
    raise RpcError(grpc.StatusCode.INVALID_ARGUMENT,
                   f'{name!r} is not projects/<project>/locations/<location>/...')
  location = match['location']
  regions, jurisdictions = supported_regions()
  if location.lower() not in regions and location.lower() not in jurisdictions:
    raise RpcError(grpc.StatusCode.INVALID_ARGUMENT,
                   f'Unsupported region for Vertex AI, select from {sorted(regions)} or from the '
                   f'multi-regional jurisdictions {list(jurisdictions)}')
  return location


def _found(errors: List[Tuple[str, str]]) -> RpcError:
  text = ''.join(f'\t{index}.Field: {field}; Message: {message}'
                 for index, (field, message) in enumerate(errors, start=1))
  return RpcError(grpc.StatusCode.INVALID_ARGUMENT, f'List of found errors:{text}')


def check_worker_pools(pools) -> None:
  """Each worker pool's machine and accelerators (CustomJobSpec.worker_pool_specs)."""
  errors = []
  for index, pool in enumerate(pools):
    where = f'job_spec.worker_pool_specs[{index}].machine_spec'
    spec = pool.machine_spec
    machine, kind, count = spec.machine_type, spec.accelerator_type.name, spec.accelerator_count
    kind = '' if kind == 'ACCELERATOR_TYPE_UNSPECIFIED' else kind
    if not pool.replica_count:
      continue
    if not accelerators.known_machine_type(machine):
      errors.append((f'{where}.machine_type', f'Machine type "{machine}" is not supported.'))
      continue
    if bool(kind) != bool(count):
      errors.append((f'{where}.accelerator_type', 'Both `accelerator_type` and '
                     '`accelerator_count` should be specified or none.'))
      continue
    if not kind:
      if machine in accelerators.GPU_MACHINE_COUNTS:
        errors.append((f'{where}.accelerator_type', f'Machine type "{machine}" comes with '
                       'GPUs: give its accelerator_type and accelerator_count.'))
      continue
    if kind in accelerators.UNSUPPORTED_ACCELERATORS or not (
        kind in accelerators.GPU_MACHINE_PREFIXES or kind in accelerators.TPU_MACHINES):
      errors.append((f'{where}.accelerator_type',
                     f'Accelerator "{kind}" is not supported for machine type "{machine}"'))
      continue
    problem = accelerators.accelerator_problem(machine, kind, count)
    if problem:
      field = 'accelerator_count' if problem[0].isdigit() else 'accelerator_type'
      errors.append((f'{where}.{field}', problem))
  if errors:
    raise _found(errors)
