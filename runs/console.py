"""Keeps the console for one line per step: TensorFlow, Beam and TFX output goes to a log file.

TensorFlow's C++ logging writes straight to file descriptor 2, so redirecting `sys.stderr` is
not enough: the descriptors themselves are pointed at the log file for the duration of a run,
and console lines are written to a saved duplicate of the original stdout.
"""

import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import Callable, Iterator

from absl import logging as absl_logging

from runs.live_status import LiveStatus

PrintLine = Callable[[str], None]


class ConsoleLines:
  """Prints whole lines to the real console (callable as a PrintLine); `live` shows the
  running component's elapsed time there (runs/live_status.py)."""

  def __init__(self, stream, is_terminal: bool):
    self._stream = stream
    self.is_terminal = is_terminal
    self.live = LiveStatus(self._write, is_terminal)

  def __call__(self, line: str) -> None:
    self.live.finish(line)

  def _write(self, text: str) -> None:
    self._stream.write(text)
    self._stream.flush()


@contextlib.contextmanager
def output_to_log_file(log_file: Path) -> Iterator[PrintLine]:
  """Within the block, fds 1 and 2 write to `log_file`; the yielded function prints to the
  real console. Python and absl logging are set to INFO so the log file has the full story."""
  log_file.parent.mkdir(parents=True, exist_ok=True)
  sys.stdout.flush()
  sys.stderr.flush()
  saved_stdout, saved_stderr = os.dup(1), os.dup(2)
  console = os.fdopen(os.dup(1), 'w', buffering=1)
  log_fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
  previous_verbosity = absl_logging.get_verbosity()
  try:
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    absl_logging.set_verbosity(absl_logging.INFO)
    logging.getLogger().setLevel(logging.INFO)

    lines = ConsoleLines(console, os.isatty(saved_stdout))
    try:
      yield lines
    finally:
      lines.live.finish(None)
  finally:
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(saved_stdout, 1)
    os.dup2(saved_stderr, 2)
    for fd in (saved_stdout, saved_stderr, log_fd):
      os.close(fd)
    console.close()
    absl_logging.set_verbosity(previous_verbosity)


def absl_logger() -> logging.Logger:
  """The logger TFX logs through (absl), where progress handlers attach."""
  return absl_logging.get_absl_logger()
