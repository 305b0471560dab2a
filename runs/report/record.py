"""What the report reads of a run, whichever engine ran it: a RunRecord (its steps, and its
artifacts by (node, artifact type)), from a RunSource, the adapter over one engine's store that
the engine provides (pipeline/engines/local_store.py for LocalDagRunner's MLMD store,
vertex_local/report_source.py for the local Vertex engine's)."""

import dataclasses
from pathlib import Path
from typing import Any, Dict, List, Optional, Protocol, Tuple



@dataclasses.dataclass(frozen=True)
class Artifact:
  type: str  # 'ExampleStatistics', 'ModelRun', ... (the 'tfx.' of Vertex titles dropped)
  uri: str
  properties: Dict[str, Any]
  run_id: str = ''  # the run that produced it


@dataclasses.dataclass
class Step:
  name: str
  status: str  # 'ran', 'cached', 'failed', ...
  seconds: Optional[float]
  error: Optional[str] = None
  resolver: bool = False
  state: Optional[str] = None  # Vertex's task state (SUCCEEDED, SKIPPED, NOT_TRIGGERED, ...)


@dataclasses.dataclass
class RunRecord:
  run_id: str
  engine: str
  started: Optional[float]  # epoch seconds
  steps: List[Step] = dataclasses.field(default_factory=list)
  outputs: Dict[Tuple[str, str], List[Artifact]] = dataclasses.field(default_factory=dict)
  inputs: Dict[Tuple[str, str], List[Artifact]] = dataclasses.field(default_factory=dict)
  parameters: Dict[str, Dict[str, Any]] = dataclasses.field(default_factory=dict)

  def output(self, node: str, artifact_type: str) -> Optional[Artifact]:
    found = self.outputs.get((node, artifact_type))
    return found[0] if found else None

  def input(self, node: str, key: str) -> Optional[Artifact]:
    found = self.inputs.get((node, key))
    return found[0] if found else None

  @property
  def status(self) -> str:
    """'failed' if a step failed, 'succeeded' if the Pusher finished, else 'incomplete'."""
    if any(step.status == 'failed' and not step.resolver for step in self.steps):
      return 'failed'
    if any(step.name == 'Pusher' for step in self.steps):
      return 'succeeded'
    return 'incomplete'

  @property
  def error(self) -> Optional[str]:
    failed = [s for s in self.steps if s.status == 'failed' and not s.resolver]
    return f'{failed[0].name} failed: {failed[0].error or "no error recorded"}' if failed else None


class RunSource(Protocol):
  """One engine's store, read for the report (and for `python -m pipeline runs`)."""
  engine: str

  def run_ids(self) -> List[Tuple[str, float]]:
    """(run id, start time in epoch seconds) of every run in the store, oldest first."""

  def run(self, run_id: Optional[str] = None,
          summary: Optional[dict] = None) -> Optional[RunRecord]:
    """The run with this id (None: the latest), or None when the store has no such run.
    `summary`: that run's last_run.json, for what the store does not keep."""

  def record_of(self, summary: dict) -> Tuple[Optional[RunRecord], Optional[str]]:
    """(the record of the run `summary` describes, a note when the figures come from another
    run), or (None, None) when no component ran."""

  def describes(self, summary: Optional[dict], run_id: str, latest_id: str) -> bool:
    """Whether `summary` (last_run.json) is the summary of run `run_id` of this store."""

  def evaluation_of(self, model_uri: str) -> Optional[Tuple[str, Artifact]]:
    """(run id, evaluation) of the latest run that evaluated this model."""


def has_files(uri: str) -> bool:
  folder = Path(uri)
  return folder.is_dir() and any(folder.iterdir())
