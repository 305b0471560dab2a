"""Every substitution a run will use, recorded before any task starts, so the console lists them
all up front: the task images and commands, Beam arguments, paths and URIs in parameters, the
images of the Trainer's worker pools and their accelerators, the serving image of pushed models,
container environment variables, and the CPU/memory limits nothing enforces here."""

import json
import os
from typing import Any, Iterator, Mapping, Tuple

from vertex_local import spec as spec_lib
from vertex_local.substitutions import Substitutions

# Where a Vertex pipeline's trainer keeps its custom-config training args (TFX's Vertex Trainer
# and Tuner), and where the Pusher names the serving image (TFX's Vertex Pusher; ours adds the
# serving command).
TRAINING_ARGS_KEYS = ('ai_platform_training_args', 'ai_platform_tuning_args')
SERVING_IMAGE_KEY = 'ai_platform_vertex_container_image_uri'


def preview(job: spec_lib.CompiledJob, substitutions: Substitutions) -> None:
  substitutions.local_path(job.pipeline_root)
  for task in job.tasks.values():
    if task.kind != 'container':
      continue
    container = task.executor['container']
    substitutions.command(container['image'], container.get('command', []),
                          container.get('args', []))
    for item in container.get('env', []):
      substitutions.use('env', f'{task.name}: {item["name"]}={item.get("value", "")}',
                        f'{item["name"]}={substitutions.text(item.get("value", ""))}',
                        "set in the task process's environment")
    limits = _limits(container.get('resources', {}))
    if limits:
      substitutions.use('resources', f'{task.name}: {limits}', _machine(),
                        'no container limits here: every task shares this machine')
    for key in task.parameters:
      value = spec_lib.constant_parameter(task, key, job)
      if isinstance(value, str):
        substitutions.text(value)
        for pool in _pools(value):
          _pool(pool, substitutions)
        _serving(value, substitutions)


def _pools(value: str) -> Iterator[Mapping[str, Any]]:
  if not any(key in value for key in TRAINING_ARGS_KEYS):
    return
  config = json.loads(value)
  for key in TRAINING_ARGS_KEYS:
    yield from config.get(key, {}).get('job_spec', {}).get('worker_pool_specs', [])


def _pool(pool: Mapping[str, Any], substitutions: Substitutions) -> None:
  container = pool.get('container_spec', {})
  if container.get('image_uri'):
    substitutions.use('image', container['image_uri'], substitutions.python,
                      'no container engine: the venv stands in for the image')
  for item in container.get('env', []):
    substitutions.use('env', f'worker pool: {item["name"]}={item.get("value", "")}',
                      f'{item["name"]}={substitutions.text(item.get("value", ""))}',
                      "set in each replica's environment")
  substitutions.accelerator_env(pool.get('machine_spec', {}))


def _serving(value: str, substitutions: Substitutions) -> None:
  if SERVING_IMAGE_KEY not in value:
    return
  image = json.loads(value).get(SERVING_IMAGE_KEY)
  if image:
    substitutions.use('serving', image, f'{substitutions.python} -m serving',
                      'predictions come from the serving package in the venv (the image\'s '
                      'custom-container server), started when an endpoint is first asked')


def _limits(resources: Mapping[str, Any]) -> str:
  parts: Tuple[str, ...] = ()
  for key in ('cpuLimit', 'memoryLimit', 'cpuRequest', 'memoryRequest'):
    if key in resources:
      parts += (f'{key}={resources[key]}',)
  accelerator = resources.get('accelerator', {})
  if accelerator:
    parts += (f'accelerator={accelerator.get("count", 1)} x {accelerator.get("type")}',)
  return ', '.join(parts)


def _machine() -> str:
  memory = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2 ** 30
  return f'{len(os.sched_getaffinity(0))} cores and {memory:.0f} GiB, shared'
