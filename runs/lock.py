"""One run at a time per pipeline home: an exclusive, non-blocking lock on `<home>/.run.lock`.

A second run against the same home fails at once, naming the process that holds the lock,
instead of interleaving writes to the MLMD store and artifacts. The lock is an flock, so the
kernel releases it when the holder dies, even by kill -9: a crashed run never blocks the next.
"""

import contextlib
import datetime
import fcntl
import os
from typing import Iterator

from core.home import PipelineHome


class PipelineBusyError(RuntimeError):
  """Another run holds the pipeline home's lock."""


@contextlib.contextmanager
def exclusive_run(home: PipelineHome) -> Iterator[None]:
  home.root.mkdir(parents=True, exist_ok=True)
  with open(home.lock, 'a+') as lock_file:
    try:
      fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      lock_file.seek(0)
      holder = lock_file.read().strip() or 'another process'
      raise PipelineBusyError(
          f'another run is using {home.root} ({holder}); wait for it to finish or set '
          'PIPELINE_HOME to another folder') from None
    lock_file.seek(0)
    lock_file.truncate()
    started = datetime.datetime.now().isoformat(timespec='seconds')
    lock_file.write(f'pid {os.getpid()}, started {started}')
    lock_file.flush()
    try:
      yield
    finally:
      lock_file.seek(0)
      lock_file.truncate()
      fcntl.flock(lock_file, fcntl.LOCK_UN)
