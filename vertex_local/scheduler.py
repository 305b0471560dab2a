"""Walks a compiled DAG as Vertex AI Pipelines does: every task starts as soon as its upstream
tasks have succeeded (or were skipped on a cache hit), independent branches run in parallel,
and a failure is handled by the job's failure policy.

- Fail slow (the default: PipelineFailurePolicy "UNSPECIFIED ... follows fail slow behavior"):
  tasks that do not depend on the failed one keep being scheduled and run to the end.
- Fail fast: after a failure no new task starts; the ones already running finish.
Either way a task whose upstream failed never runs: its trigger (all upstream tasks succeeded)
cannot be met. Such tasks, and those fail fast never started, end NOT_TRIGGERED. A cache hit
is SKIPPED (PipelineTaskDetail.State: "skipped due to cache hit"). On cancel, running tasks are
stopped and end CANCELLED, with the tasks that never started.

Containers run in a small thread pool (each task is its own process); resolvers and importers
are quick lookups in the store, run on the scheduler's thread as soon as they are ready. Every
callback (console lines, the live status) is called from the scheduler's thread only.
"""

import dataclasses
import os
import threading
import time
from concurrent import futures
from typing import Callable, Dict, List, Mapping, Optional

from vertex_local import spec as spec_lib

SUCCEEDED, SKIPPED, FAILED = 'SUCCEEDED', 'SKIPPED', 'FAILED'
NOT_TRIGGERED, CANCELLED = 'NOT_TRIGGERED', 'CANCELLED'
_DONE_OK = (SUCCEEDED, SKIPPED)


@dataclasses.dataclass
class TaskResult:
  name: str
  state: str  # one of the states above
  seconds: float = 0.0
  error: Optional[str] = None
  order: int = 0  # when it ended (or was given up), for the summary's order


def default_parallelism() -> int:
  """Containers at once: one per core this process may use, at most 4 (each task is a process
  that imports TensorFlow; more would only thrash a small machine)."""
  return max(1, min(4, len(os.sched_getaffinity(0))))


# (task) -> 'ran' | 'cached'; raises on failure, with the message the summary shows.
RunTask = Callable[[spec_lib.Task], str]
# What a task fails with: TaskFailed (a RuntimeError), SpecError and PlaceholderError
# (ValueErrors), an OSError starting its process. Anything else is a bug and ends the run.
TASK_ERRORS = (RuntimeError, ValueError, OSError)


def run_dag(tasks: Mapping[str, spec_lib.Task], run_task: RunTask, *, fail_fast: bool = False,
            parallelism: int = 1, cancelled: Optional[threading.Event] = None,
            on_start: Callable[[List[str]], None] = lambda running: None,
            on_end: Callable[[TaskResult], None] = lambda result: None
            ) -> Dict[str, TaskResult]:
  """Runs every task that can run; returns {name: result} for every task.

  `on_start(names)` is called with the names running after a task starts; `on_end(result)`
  once per task, in the order they end (never-run tasks last).
  """
  cancelled = cancelled or threading.Event()
  results: Dict[str, TaskResult] = {}
  pending = dict(tasks)
  running: Dict[futures.Future, tuple] = {}
  failed = False

  def finish(result: TaskResult) -> None:
    result.order = len(results)
    results[result.name] = result
    on_end(result)

  def execute(task: spec_lib.Task) -> TaskResult:
    started = time.monotonic()
    try:
      status = run_task(task) or 'ran'
      state = SKIPPED if status == 'cached' else SUCCEEDED
      return TaskResult(task.name, state, time.monotonic() - started)
    except TASK_ERRORS as error:
      state = CANCELLED if cancelled.is_set() else FAILED
      return TaskResult(task.name, state, time.monotonic() - started, _message(task, error))

  with futures.ThreadPoolExecutor(max_workers=parallelism,
                                  thread_name_prefix='vertex-task') as pool:
    while pending or running:
      stop = cancelled.is_set() or (fail_fast and failed)
      progressed = False
      for name in sorted(pending):
        task = pending[name]
        upstream = [results.get(dependency) for dependency in task.dependencies]
        if not cancelled.is_set() and any(r is not None and r.state not in _DONE_OK
                                          for r in upstream):
          del pending[name]
          finish(TaskResult(name, NOT_TRIGGERED, error=_blocked_by(upstream)))
          progressed = True
        elif not stop and all(r is not None for r in upstream):
          del pending[name]
          progressed = True
          if task.kind == 'container':
            running[pool.submit(execute, task)] = name
            on_start(sorted(running.values()))
          else:
            result = execute(task)
            failed = failed or result.state == FAILED
            finish(result)
            if running:  # the running containers' live status, after the line
              on_start(sorted(running.values()))
      if stop and not running:
        for name in sorted(pending):
          finish(TaskResult(name, CANCELLED if cancelled.is_set() else NOT_TRIGGERED,
                            error='the run was cancelled' if cancelled.is_set() else
                            'not started: the job fails fast and a task failed'))
        pending.clear()
        break
      if progressed:
        continue
      if not running:
        break  # nothing runs and nothing can start: the DAG check makes this unreachable
      done, _ = futures.wait(list(running), timeout=0.5, return_when=futures.FIRST_COMPLETED)
      for future in done:
        running.pop(future)
        result = future.result()
        failed = failed or result.state == FAILED
        finish(result)
        if running:
          on_start(sorted(running.values()))
  return results


def _blocked_by(upstream: List[Optional[TaskResult]]) -> str:
  names = sorted(r.name for r in upstream if r is not None and r.state not in _DONE_OK)
  return f'not triggered: upstream task(s) {", ".join(names)} did not succeed'


def _message(task: spec_lib.Task, error: Exception) -> str:
  text = str(error)
  return text if text.startswith(task.name) else f'{task.name} failed: {text}'
