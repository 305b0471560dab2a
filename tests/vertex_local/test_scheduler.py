"""The DAG walk: parallel branches, fail slow and fail fast, NOT_TRIGGERED and SKIPPED, resolvers
as soon as they can run, cancel. Tasks here are callables, not processes."""

import threading

import pytest

from vertex_local import scheduler
from vertex_local.spec import Task


def _task(name, *upstream, kind='container'):
  return Task(name=name, component={}, executor={kind: {}}, parameters={}, artifacts={},
              dependencies=tuple(upstream), enable_cache=True)


def _dag(*tasks):
  return {task.name: task for task in tasks}


def _run(tasks, behaviour, **options):
  ended = []
  results = scheduler.run_dag(tasks, behaviour, on_end=lambda r: ended.append(r.name),
                              **options)
  return {name: r.state for name, r in results.items()}, ended, results


def test_independent_branches_run_at_the_same_time():
  both = threading.Barrier(2, timeout=10)  # breaks unless A and B run at once

  def behaviour(task):
    if task.name in ('A', 'B'):
      both.wait()
    return 'ran'

  states, _, _ = _run(_dag(_task('A'), _task('B'), _task('C', 'A', 'B')), behaviour,
                      parallelism=2)
  assert states == {'A': 'SUCCEEDED', 'B': 'SUCCEEDED', 'C': 'SUCCEEDED'}


def test_fail_slow_runs_the_other_branch_and_does_not_trigger_the_failed_ones_downstream():
  ran = []

  def behaviour(task):
    ran.append(task.name)
    if task.name == 'Gate':
      raise RuntimeError('bad data')
    return 'cached' if task.name == 'Schema' else 'ran'

  tasks = _dag(_task('Schema'), _task('Gate', 'Schema'), _task('Transform', 'Gate'),
               _task('Trainer', 'Transform'), _task('Stats', 'Schema'), _task('Report', 'Stats'))
  states, ended, results = _run(tasks, behaviour, parallelism=1)
  assert states == {'Schema': 'SKIPPED', 'Gate': 'FAILED', 'Transform': 'NOT_TRIGGERED',
                    'Trainer': 'NOT_TRIGGERED', 'Stats': 'SUCCEEDED', 'Report': 'SUCCEEDED'}
  assert 'Transform' not in ran and 'Report' in ran
  assert results['Gate'].error == 'Gate failed: bad data'
  assert results['Trainer'].error == 'not triggered: upstream task(s) Transform did not succeed'
  assert ended.index('Gate') < ended.index('Transform')


def test_fail_fast_starts_nothing_after_a_failure_but_lets_running_tasks_finish():
  slow_started, failed = threading.Event(), threading.Event()

  def behaviour(task):
    if task.name == 'Slow':
      slow_started.set()
      assert failed.wait(10)  # still running when Fails has failed
      return 'ran'
    if task.name == 'Fails':
      assert slow_started.wait(10)
      failed.set()
      raise RuntimeError('boom')
    return 'ran'

  tasks = _dag(_task('Fails'), _task('Slow'), _task('Later', 'Slow'))
  states, _, results = _run(tasks, behaviour, parallelism=2, fail_fast=True)
  assert states == {'Fails': 'FAILED', 'Slow': 'SUCCEEDED', 'Later': 'NOT_TRIGGERED'}
  assert 'fails fast' in results['Later'].error
  # The same DAG failing slow runs Later.
  slow_started.clear(), failed.clear()
  states, _, _ = _run(tasks, behaviour, parallelism=2)
  assert states['Later'] == 'SUCCEEDED'


def test_resolvers_run_as_soon_as_their_inputs_allow():
  order = []

  def behaviour(task):
    order.append(task.name)
    return 'ran'

  tasks = _dag(_task('ExampleGen'), _task('Stats', 'ExampleGen'),
               _task('baseline-resolver', kind='resolver'),
               _task('model-resolver', 'baseline-resolver', kind='resolver'),
               _task('Gate', 'Stats', 'baseline-resolver'))
  _run(tasks, behaviour, parallelism=1)
  assert order.index('model-resolver') < order.index('Stats')  # not last, as before
  assert order.index('baseline-resolver') < order.index('Gate')


def test_cancel_stops_what_runs_and_starts_nothing_more():
  cancel = threading.Event()

  def behaviour(task):
    if task.name == 'Long':
      cancel.set()  # the user cancels while Long runs; its process is stopped
      raise RuntimeError('Long was cancelled (its process was stopped)')
    return 'ran'

  states, _, _ = _run(_dag(_task('Long'), _task('Next', 'Long'), _task('Other', 'Long')),
                      behaviour, cancelled=cancel)
  assert states == {'Long': 'CANCELLED', 'Next': 'CANCELLED', 'Other': 'CANCELLED'}


def test_a_bug_in_the_engine_is_not_swallowed_as_a_task_failure():
  def behaviour(task):
    raise KeyError('a bug')

  with pytest.raises(KeyError):
    _run(_dag(_task('A')), behaviour)
