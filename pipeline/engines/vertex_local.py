"""The local Vertex engine as an engine of `python -m pipeline run`: compiles a profile (or takes
--spec) and runs that exact spec on this machine (the vertex_local package), reported as every
engine reports."""

import argparse
from pathlib import Path

from core.home import PipelineHome
from pipeline.environment import Environment
from pipeline.settings import RunSettings
from runs import console
from runs.summary import ReportWriter, RunSummary
from vertex_local import ENGINE_NAME

NAME = ENGINE_NAME


class VertexLocalEngine:
  name = NAME
  help = ('run the compiled Vertex spec here, as Vertex AI Pipelines would (README: "Run the '
          'exact spec")')

  def add_arguments(self, parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--spec', help='vertex-local: the compiled spec to run (default: compile '
                        '--profile first, to build/pipeline-<profile>.json)')

  def run_source(self, home: PipelineHome):
    from vertex_local import report_source  # pylint: disable=import-outside-toplevel
    return report_source.VertexLocalSource(home.vertex_local / 'metadata.json')

  def run(self, settings: RunSettings, home: PipelineHome, environment: Environment,
          args: argparse.Namespace, print_line: console.PrintLine,
          write_report: ReportWriter) -> RunSummary:
    # pylint: disable=import-outside-toplevel; TensorFlow and TFX load only when running
    from pipeline.vertex import commands
    from vertex_local import engine
    from vertex_local import run as vertex_local_run
    parameters = commands.parameters(getattr(args, 'param', []))
    spec = args.spec or commands.compile_profile(args.profile, settings, environment, home)
    engine_settings = engine.EngineSettings(
        spec_path=Path(spec).resolve(), home=home, data_root=settings.data.local_data_root(),
        # As aiplatform's PipelineJob(enable_caching=False) for CACHE=0 / --no-cache; else
        # each task's compiled cachingOptions.
        enable_cache=None if settings.enable_cache else False, parameter_values=parameters,
        failure_policy=getattr(args, 'failure_policy', None))
    return vertex_local_run.run_and_report(engine_settings, print_line, write_report)


ENGINE = VertexLocalEngine()
