"""The machine and accelerator catalogue of Vertex AI custom training, one copy for the whole
project: profiles are validated against it (pipeline/vertex/profiles.py, WorkerPool), and the
local Vertex AI (vertex_local/api) refuses a CustomJob outside it as Vertex does. Which machine
types exist, which GPUs and TPUs attach to which of them and in what counts, and which of them
the pipeline images' TensorFlow 2.16.2 cannot drive, with the reason. Pure Python."""

import re
from typing import Dict, Tuple

# The accelerators Vertex AI custom training offers, from its docs "Configure compute resources
# for custom training" (https://cloud.google.com/vertex-ai/docs/training/configure-compute) and
# "Training with TPU accelerators" (.../vertex-ai/docs/training/training-with-tpu-vm).
# GPU accelerator -> the machine-type prefixes it attaches to.
GPU_MACHINE_PREFIXES: Dict[str, Tuple[str, ...]] = {
    'NVIDIA_TESLA_T4': ('n1-',), 'NVIDIA_TESLA_V100': ('n1-',), 'NVIDIA_TESLA_P100': ('n1-',),
    'NVIDIA_TESLA_P4': ('n1-',), 'NVIDIA_L4': ('g2-standard-',),
    'NVIDIA_TESLA_A100': ('a2-highgpu-', 'a2-megagpu-'), 'NVIDIA_A100_80GB': ('a2-ultragpu-',),
    'NVIDIA_H100_80GB': ('a3-highgpu-',), 'NVIDIA_H100_MEGA_80GB': ('a3-megagpu-',),
    # H200 is Hopper (sm_90, the H100's GH100 chip with more memory): CUDA 12.3 and cuDNN 8.9
    # support sm_90 and TF 2.16.2 ships compute_90 code (`make check-image-env` prints its build
    # info); the driver comes from the Vertex host.
    'NVIDIA_H200_141GB': ('a3-ultragpu-',),
}
# GPUs per machine: an N1 machine takes one of these counts (Vertex enforces the vCPU limit per
# count); an accelerator-optimized machine type comes with exactly its GPUs.
N1_GPU_COUNTS: Dict[str, Tuple[int, ...]] = {'NVIDIA_TESLA_V100': (1, 2, 4, 8), **{
    kind: (1, 2, 4) for kind in ('NVIDIA_TESLA_T4', 'NVIDIA_TESLA_P100', 'NVIDIA_TESLA_P4')}}
GPU_MACHINE_COUNTS: Dict[str, int] = {
    **{f'g2-standard-{cpus}': n for cpus, n in (
        (4, 1), (8, 1), (12, 1), (16, 1), (24, 2), (32, 1), (48, 4), (96, 8))},
    **{f'a2-highgpu-{n}g': n for n in (1, 2, 4, 8)}, 'a2-megagpu-16g': 16,
    **{f'a2-ultragpu-{n}g': n for n in (1, 2, 4, 8)},
    **{f'a3-highgpu-{n}g': n for n in (1, 2, 4, 8)},
    'a3-megagpu-8g': 8, 'a3-ultragpu-8g': 8,
}
# TPU accelerator -> machine type -> the accelerator counts Vertex offers on it. v5e runs
# TensorFlow 2.15+ (the TPU page above). No TPU v4/v5p machine types are listed for training.
TPU_MACHINES: Dict[str, Dict[str, Tuple[int, ...]]] = {
    'TPU_V2': {'cloud-tpu': (8,)}, 'TPU_V3': {'cloud-tpu': (8,)},
    'TPU_V5_LITEPOD': {f'ct5lp-hightpu-{n}t': (n,) for n in (1, 4, 8)},
}
# Offered by Vertex AI, but the images' TensorFlow 2.16.2 (CUDA 12.3, cuDNN 8.9, libtpu 2.16)
# cannot drive them: accelerator -> why, and what to use instead.
_BLACKWELL = ('a Blackwell GPU ({}), which needs CUDA 12.8+ and cuDNN 9.7+, and TensorFlow 2.16.2 '
              'is built for CUDA 12.3 / cuDNN 8.9 (its XLA ptxas cannot target {}); use a Hopper '
              'GPU instead (NVIDIA_H100_80GB, NVIDIA_H100_MEGA_80GB, NVIDIA_H200_141GB)')
UNSUPPORTED_ACCELERATORS: Dict[str, str] = {
    'NVIDIA_B200': _BLACKWELL.format('sm_100, a4-highgpu-8g', 'sm_100'),
    'NVIDIA_GB200': _BLACKWELL.format('sm_100, a4x-highgpu-4g on Arm hosts', 'sm_100'),
    'NVIDIA_RTX_PRO_6000': _BLACKWELL.format('sm_120, g4-standard-*', 'sm_120'),
    'TPU_V6E': ('TPU v6e (Trillium, ct6e-standard-*), which came after TensorFlow 2.16 and its '
                'libtpu 2.16 (Vertex AI lists JAX and PyTorch, not TensorFlow, for v6e); use '
                'TPU_V5_LITEPOD or TPU_V3 instead'),
}

# Machine types without an accelerator: Compute Engine's predefined types of the families Vertex
# AI custom training lists ("Configure compute resources for custom training": E2, N2, N1, C2,
# M1), as family -> vCPU counts. Accelerator machine types are the ones above.
_CPU_FAMILIES: Dict[str, Tuple[int, ...]] = {
    'e2-standard': (4, 8, 16, 32), 'e2-highmem': (2, 4, 8, 16), 'e2-highcpu': (16, 32),
    'n2-standard': (4, 8, 16, 32, 48, 64, 80), 'n2-highmem': (2, 4, 8, 16, 32, 48, 64, 80),
    'n2-highcpu': (16, 32, 48, 64, 80),
    'n1-standard': (4, 8, 16, 32, 64, 96), 'n1-highmem': (2, 4, 8, 16, 32, 64, 96),
    'n1-highcpu': (16, 32, 64, 96),
    'c2-standard': (4, 8, 16, 30, 60), 'm1-ultramem': (40, 80, 160), 'm1-megamem': (96,),
}
MACHINE_TYPES: Tuple[str, ...] = tuple(sorted(
    {f'{family}-{cpus}' for family, counts in _CPU_FAMILIES.items() for cpus in counts} |
    set(GPU_MACHINE_COUNTS) | {machine for machines in TPU_MACHINES.values() for machine in machines}
))
_FAMILY = re.compile(r'^([a-z0-9]+-[a-z]+)-')


def known_machine_type(machine_type: str) -> bool:
  return machine_type in MACHINE_TYPES


def similar_machine_types(machine_type: str) -> Tuple[str, ...]:
  """The catalogue's machine types of the same family ('n1-standard-7' -> n1-standard-*), else
  every family's smallest: what to suggest for an unknown machine type."""
  family = _FAMILY.match(machine_type)
  same = tuple(m for m in MACHINE_TYPES if family and m.startswith(family.group(0)))
  return same or tuple(sorted({f'{name}-{counts[0]}' for name, counts in _CPU_FAMILIES.items()}))


def accelerator_problem(machine_type: str, kind: str, count: int) -> str:
  """Why Vertex AI refuses `count` x `kind` on `machine_type` ('' when it accepts it), for an
  accelerator of the catalogue (GPU_MACHINE_PREFIXES or TPU_MACHINES)."""
  if kind in TPU_MACHINES:
    machines = TPU_MACHINES[kind]
    if machine_type not in machines:
      return f'Accelerator "{kind}" is not supported for machine type "{machine_type}"'
    if count not in machines[machine_type]:
      return (f'{count} x {kind} is not supported for machine type "{machine_type}"; it takes '
              f'{", ".join(map(str, machines[machine_type]))}')
    return ''
  if not machine_type.startswith(GPU_MACHINE_PREFIXES[kind]) or (
      kind not in N1_GPU_COUNTS and machine_type not in GPU_MACHINE_COUNTS):
    return f'Accelerator "{kind}" is not supported for machine type "{machine_type}"'
  allowed = N1_GPU_COUNTS.get(kind) or (GPU_MACHINE_COUNTS[machine_type],)
  if count not in allowed:
    return (f'{count} x {kind} is not supported for machine type "{machine_type}"; it takes '
            f'{", ".join(map(str, allowed))}')
  return ''


# Online prediction also offers the 2-vCPU types of these families (aiplatform's default machine
# for a deployment is n1-standard-2).
_PREDICTION_ONLY = ('n1-standard-2', 'n1-highcpu-2', 'n1-highcpu-4', 'n1-highcpu-8',
                    'e2-standard-2', 'e2-highcpu-2', 'e2-highcpu-4', 'e2-highcpu-8',
                    'n2-standard-2', 'n2-highcpu-2', 'n2-highcpu-4', 'n2-highcpu-8')


def known_prediction_machine_type(machine_type: str) -> bool:
  return machine_type in MACHINE_TYPES or machine_type in _PREDICTION_ONLY
