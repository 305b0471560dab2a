"""The running component's elapsed time on the console, so a long run never looks hung.

On a terminal one line updates in place every second (`  Transform  running  12s`) and the
finished line replaces it. Otherwise (a log, CI) plain lines: one when a component has run for
30 s, then at 1, 2, 4, ... minutes. Every engine uses it (pipeline/engines/local_progress.py,
vertex_local/engine.py).
"""

import threading
import time
from typing import Callable, Optional

_FIRST_NOTE_SECONDS = 30.0


class LiveStatus:
  """start(name) ... finish(line): ticks on a daemon thread between the two."""

  def __init__(self, write: Callable[[str], None], is_terminal: bool,
               clock: Callable[[], float] = time.monotonic, interval: float = 1.0):
    self._write, self._is_terminal, self._clock, self._interval = (
        write, is_terminal, clock, interval)
    self._lock = threading.Lock()
    self._name: Optional[str] = None
    self._started = 0.0
    self._next_note = _FIRST_NOTE_SECONDS
    self._stop = threading.Event()
    self._thread: Optional[threading.Thread] = None

  def start(self, name: str) -> None:
    self.finish(None)
    with self._lock:
      self._name, self._started, self._next_note = name, self._clock(), _FIRST_NOTE_SECONDS
      self._stop = threading.Event()
      self._thread = threading.Thread(target=self._tick, args=(self._stop,), daemon=True,
                                       name='live-status')
      self._thread.start()

  def finish(self, line: Optional[str]) -> None:
    """Stops the ticking and writes `line` (the component's result) in place of the status."""
    thread = self._thread
    if thread is not None:
      self._stop.set()
      thread.join()
      self._thread = None
    with self._lock:
      clear = '\r\x1b[K' if self._is_terminal and self._name else ''
      if line is not None or clear:
        self._write(clear + ('' if line is None else line + '\n'))
      self._name = None

  def tick(self) -> None:
    """One update (the thread calls it every interval; tests call it directly)."""
    with self._lock:
      if self._name is None:
        return
      elapsed = self._clock() - self._started
      if self._is_terminal:
        self._write(f'\r\x1b[K  {self._name:<38} running {elapsed:5.0f}s')
      elif elapsed >= self._next_note:
        self._write(f'  {self._name:<38} still running after {_duration(elapsed)}\n')
        self._next_note = 60.0 if self._next_note < 60 else self._next_note * 2

  def _tick(self, stop: threading.Event) -> None:
    while not stop.wait(self._interval):
      self.tick()


def _duration(seconds: float) -> str:
  return f'{seconds:.0f}s' if seconds < 90 else f'{seconds / 60:.0f} min'
