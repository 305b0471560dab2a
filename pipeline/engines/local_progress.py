"""Turns LocalDagRunner's progress log lines into one console line per component.

LocalDagRunner logs 'Component %s is running.' / 'is finished.', and the launcher logs
'A cached execution %d is used.' in between when it reuses a result. A logging handler on those
exact format strings gives live progress without patching TFX.
"""

import logging
import time
from typing import Callable, List, Optional

from runs.summary import ComponentRun

_RUNNING = 'Component %s is running.'
_FINISHED = 'Component %s is finished.'
_CACHED = 'A cached execution %d is used.'


class ComponentProgress(logging.Handler):
  """Records (and prints through `emit_line`) each component's name, ran/cached and seconds."""

  def __init__(self, emit_line: Callable[[str], None], clock=time.monotonic):
    super().__init__(level=logging.INFO)
    self.components: List[ComponentRun] = []
    self._emit_line = emit_line
    # The console's live status line (runs/live_status.py), when it has one.
    self._live = getattr(emit_line, 'live', None)
    self._clock = clock
    self._current: Optional[str] = None
    self._started = 0.0
    self._cached = False

  def emit(self, record: logging.LogRecord) -> None:
    if record.msg == _RUNNING:
      self._current, self._started, self._cached = record.args[0], self._clock(), False
      if self._live is not None:
        self._live.start(self._current)
    elif record.msg == _CACHED:
      self._cached = True
    elif record.msg == _FINISHED and self._current:
      self._close('cached' if self._cached else 'ran')

  def mark_failed(self) -> Optional[str]:
    """Call when the run raised: closes the running component as failed and returns its name."""
    name = self._current
    if name:
      self._close('failed')
    return name

  def _close(self, status: str) -> None:
    run = ComponentRun(self._current, self._clock() - self._started, status == 'cached', status)
    self.components.append(run)
    self._current = None
    self._emit_line(f'  {run.name:<38} {status:<7} {run.seconds:7.1f}s')
