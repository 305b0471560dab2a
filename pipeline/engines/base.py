"""What an engine is: something that runs a pipeline for the RunSettings of pipeline/settings.py
and reports the run as every engine does (runs/: lock, console, pre-check, summary, report,
history). The three peers are LocalDagRunner (local.py), the local Vertex engine
(vertex_local.py, over the vertex_local package) and Vertex AI itself (vertex.py)."""

import argparse
from typing import Optional, Protocol

from core.home import PipelineHome
from pipeline.environment import Environment
from pipeline.settings import RunSettings
from runs.console import PrintLine
from runs.report.record import RunSource
from runs.summary import ReportWriter, RunSummary


class Engine(Protocol):
  """One engine; pipeline/engines/__init__.py registers it by `name`."""
  name: str
  help: str

  def add_arguments(self, parser: argparse.ArgumentParser) -> None:
    """Adds the engine's own flags to `python -m pipeline run` (e.g. --spec, --profile)."""

  def run(self, settings: RunSettings, home: PipelineHome, environment: Environment,
          args: argparse.Namespace, print_line: PrintLine,
          write_report: ReportWriter) -> RunSummary:
    """Runs the pipeline and reports it: last_run.json and the run history in `home`, and the
    report through `write_report`. The engine takes what it adds to the settings from the
    environment and its flags (a profile, a spec). Never raises for a failed run: the summary
    says what failed. Raises runs.lock.PipelineBusyError, writing nothing, when another run
    holds the pipeline home."""

  def run_source(self, home: PipelineHome) -> Optional[RunSource]:
    """The adapter over the engine's store in `home` for the report and the run list; None
    when the engine keeps no store here."""
