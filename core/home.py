"""The pipeline home: the one folder a run reads and writes besides its data. Every path in it is
named here, so the engines, the report and the command line agree on the layout."""

import dataclasses
import datetime
from pathlib import Path
from typing import Optional

DEFAULT_HOME = 'pipeline_home'  # under the working directory, unless PIPELINE_HOME says


@dataclasses.dataclass(frozen=True)
class PipelineHome:
  """Paths inside one pipeline home (`root`, absolute)."""
  root: Path

  @classmethod
  def at(cls, path: Optional[str] = None) -> 'PipelineHome':
    """The home at `path` (default: DEFAULT_HOME in the working directory), made absolute."""
    return cls(Path(path or DEFAULT_HOME).resolve())

  @property
  def last_run(self) -> Path:
    """The summary of the latest run (runs/summary.py), whichever engine ran it."""
    return self.root / 'last_run.json'

  @property
  def history(self) -> Path:
    """One JSON line per run, failed ones included, oldest first (runs/history.py)."""
    return self.root / 'runs.jsonl'

  @property
  def report(self) -> Path:
    return self.root / 'report.html'

  @property
  def reports(self) -> Path:
    """Reports of earlier runs, rebuilt on request: reports/<run id>.html."""
    return self.root / 'reports'

  @property
  def logs(self) -> Path:
    return self.root / 'logs'

  @property
  def lock(self) -> Path:
    return self.root / '.run.lock'

  @property
  def generated_data(self) -> Path:
    """Data made at run time for a bundled dataset (datadefs/generated.py), one folder each."""
    return self.root / 'generated_data'

  # LocalDagRunner's store and artifacts.
  @property
  def metadata(self) -> Path:
    return self.root / 'metadata.sqlite'

  @property
  def pipeline_root(self) -> Path:
    return self.root / 'pipeline_root'

  def serving_models(self, pipeline_name: str) -> Path:
    """Where the local Pusher writes a pipeline's blessed models, one folder per version."""
    return self.root / 'serving_model' / pipeline_name

  # The local Vertex engine's store, stand-in Cloud Storage and API state.
  @property
  def vertex_local(self) -> Path:
    return self.root / 'vertex_local'

  def new_log_file(self) -> Path:
    """A run's log file, named by its start time (every engine logs there)."""
    return self.logs / f'run-{datetime.datetime.now():%Y%m%d-%H%M%S}.log'
