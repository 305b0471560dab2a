"""The local engine's artifact store: what Vertex ML Metadata records for a pipeline run, kept
as one JSON file in the pipeline home.

One store holds every pipeline run into it, as one Vertex ML Metadata store holds every pipeline
of a project: resolver queries see the whole store unless their filter narrows it (filters.py).
Artifacts are listed newest first. Finished task executions are kept by cache key (caching.py)
and looked up only within their pipeline. The file is rewritten atomically after each task, so
a killed run leaves the store as it was after the last finished task, and never names an
artifact of an unfinished one. Tasks of one run finish in parallel threads: every change holds
the store's lock.
"""

import dataclasses
import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from vertex_local import filters

STORE_PREFIX = 'projects/local/locations/local/metadataStores/default'


@dataclasses.dataclass
class StoredArtifact:
  name: str  # projects/.../metadataStores/default/artifacts/<id>
  schema_title: str
  uri: str
  metadata: Dict[str, Any]
  state: str = 'LIVE'
  display_name: str = ''
  producer_task: str = ''  # the task that made it, e.g. 'AnomaliesGate'
  pipeline_run: str = ''  # the run that made it
  contexts: List[str] = dataclasses.field(default_factory=list)
  create_time: float = 0.0
  sequence: int = 0  # creation order: ties in create_time are broken by it


@dataclasses.dataclass
class CachedExecution:
  cache_key: str
  task: str
  pipeline_run: str
  outputs: Dict[str, List[str]]  # output key -> artifact names
  pipeline: str = ''  # the pipeline name: the cache is shared only within one pipeline


class ArtifactStore:
  """Loads the store from `path` (or starts empty) and saves it with `save()`."""

  def __init__(self, path: Path):
    self.path = path
    self.artifacts: Dict[str, StoredArtifact] = {}
    self.executions: Dict[str, CachedExecution] = {}
    self._next_id = 1
    self._lock = threading.RLock()
    if path.exists():
      data = json.loads(path.read_text())
      self._next_id = data['next_id']
      for item in data['artifacts']:
        artifact = StoredArtifact(**item)
        self.artifacts[artifact.name] = artifact
      for item in data['executions']:
        execution = CachedExecution(**item)
        self.executions[execution.cache_key] = execution

  def save(self) -> None:
    with self._lock:
      data = {'next_id': self._next_id,
              'artifacts': [dataclasses.asdict(a) for a in self.artifacts.values()],
              'executions': [dataclasses.asdict(e) for e in self.executions.values()]}
      self.path.parent.mkdir(parents=True, exist_ok=True)
      tmp = self.path.with_suffix('.tmp')
      tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
      os.replace(tmp, self.path)

  def new_artifact_name(self) -> str:
    """A fresh resource name, as Vertex assigns one to each output before the task runs."""
    with self._lock:
      name = f'{STORE_PREFIX}/artifacts/{self._next_id}'
      self._next_id += 1
      return name

  def add(self, artifact: StoredArtifact) -> StoredArtifact:
    with self._lock:
      artifact.create_time = artifact.create_time or time.time()
      artifact.sequence = len(self.artifacts) + 1
      self.artifacts[artifact.name] = artifact
      return artifact

  def query(self, filter_text: str) -> List[StoredArtifact]:
    """Artifacts matching the filter over the whole store, newest first."""
    clauses = filters.parse(filter_text)
    with self._lock:
      found = [a for a in self.artifacts.values() if filters.matches(clauses, a)]
    return sorted(found, key=lambda a: (a.create_time, a.sequence), reverse=True)

  def find_by_uri(self, uri: str, schema_title: str) -> Optional[StoredArtifact]:
    with self._lock:
      artifacts = list(self.artifacts.values())
    for artifact in sorted(artifacts, key=lambda a: a.sequence, reverse=True):
      if artifact.uri == uri and artifact.schema_title == schema_title:
        return artifact
    return None

  def cached(self, cache_key: str, pipeline: str) -> Optional[CachedExecution]:
    """The finished execution of `pipeline` with this key whose outputs are all still LIVE."""
    with self._lock:
      execution = self.executions.get(cache_key)
    if execution is None or execution.pipeline != pipeline:
      return None
    names = [name for names in execution.outputs.values() for name in names]
    if all(name in self.artifacts and self.artifacts[name].state == 'LIVE' for name in names):
      return execution
    return None

  def record_execution(self, execution: CachedExecution) -> None:
    with self._lock:
      self.executions[execution.cache_key] = execution
