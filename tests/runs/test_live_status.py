"""runs/live_status.py: the running component's elapsed time, on a terminal and not."""

import io
import time

from pipeline.engines import local_progress as progress
from runs.console import ConsoleLines
from runs.live_status import LiveStatus


class _Clock:
  def __init__(self):
    self.now = 100.0

  def __call__(self):
    return self.now


def test_on_a_terminal_one_line_updates_in_place_and_the_result_replaces_it():
  out, clock = io.StringIO(), _Clock()
  live = LiveStatus(out.write, is_terminal=True, clock=clock, interval=3600)
  live.start('Transform')
  clock.now += 12
  live.tick()
  clock.now += 1
  live.tick()
  live.finish('  Transform ran 13.0s')
  assert out.getvalue() == ('\r\x1b[K  Transform                              running    12s'
                            '\r\x1b[K  Transform                              running    13s'
                            '\r\x1b[K  Transform ran 13.0s\n')


def test_elsewhere_plain_lines_after_30s_then_at_doubling_minutes():
  out, clock = io.StringIO(), _Clock()
  live = LiveStatus(out.write, is_terminal=False, clock=clock, interval=3600)
  live.start('Trainer')
  for seconds in range(1, 300):
    clock.now += 1
    live.tick()
  live.finish('  Trainer ran 299.0s')
  lines = out.getvalue().splitlines()
  assert lines == ['  Trainer                                still running after 30s',
                   '  Trainer                                still running after 60s',
                   '  Trainer                                still running after 2 min',
                   '  Trainer                                still running after 4 min',
                   '  Trainer ran 299.0s']


def test_the_thread_ticks_and_stops():
  out = io.StringIO()
  live = LiveStatus(out.write, is_terminal=True, interval=0.01)
  live.start('StatisticsGen')
  time.sleep(0.2)
  live.finish('done')
  text = out.getvalue()
  assert text.count('running') >= 2 and text.endswith('done\n')
  assert live._thread is None  # pylint: disable=protected-access


def test_component_progress_starts_the_console_status_per_component():
  out = io.StringIO()
  lines = ConsoleLines(out, is_terminal=True)
  tracker = progress.ComponentProgress(lines)
  tracker.emit(_record('Component %s is running.', 'Trainer'))
  lines.live.tick()
  tracker.emit(_record('Component %s is finished.', 'Trainer'))
  assert 'running' in out.getvalue()
  assert out.getvalue().rstrip('\n').split('\r\x1b[K')[-1].split()[:2] == ['Trainer', 'ran']


def _record(msg, *args):
  import logging  # pylint: disable=import-outside-toplevel
  return logging.LogRecord('absl', logging.INFO, __file__, 1, msg, args, None)
