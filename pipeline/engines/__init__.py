"""The engines that run the pipeline, as peers behind one interface (base.py), by name. A new
engine is one module here plus one line in ENGINES."""

from typing import Dict

from core.home import PipelineHome
from pipeline.engines import local
from pipeline.engines import vertex
from pipeline.engines import vertex_local
from pipeline.engines.base import Engine
from runs.report.record import RunSource

ENGINES: Dict[str, Engine] = {engine.name: engine for engine in (
    local.ENGINE,
    vertex_local.ENGINE,
    vertex.ENGINE,
)}
DEFAULT = local.NAME


def sources(home: PipelineHome) -> Dict[str, RunSource]:
  """{engine: the adapter over its store in `home`} of every engine that keeps one there."""
  found = {name: engine.run_source(home) for name, engine in ENGINES.items()}
  return {name: source for name, source in found.items() if source is not None}
