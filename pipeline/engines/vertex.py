"""Vertex AI Pipelines as an engine of `python -m pipeline run`: compiles the profile (or takes
--spec), uploads what the image lacks, submits the run and prints its console link; the run goes
on in the cloud. Its summary records the submitted job; the report and the run list of this
engine are in the Vertex AI console."""

import argparse

from core.home import PipelineHome
from pipeline.environment import Environment
from pipeline.settings import RunSettings
from runs import console
from runs import lock
from runs.summary import ReportWriter, RunSummary, finish

NAME = 'vertex'


class VertexEngine:
  name = NAME
  help = 'submit the compiled spec to Vertex AI Pipelines (GCP_PROJECT, GCS_BUCKET, ...)'

  def add_arguments(self, parser: argparse.ArgumentParser) -> None:
    # --spec, --profile, --param, --failure-policy and --no-cache serve it too.
    parser.add_argument('--api-endpoint', help='vertex: the Vertex AI API host:port to submit '
                        'to (e.g. the local one: `python -m pipeline vertex-local serve`)')

  def run_source(self, home: PipelineHome):
    return None  # The runs are in Vertex AI, not in this home.

  def run(self, settings: RunSettings, home: PipelineHome, environment: Environment,
          args: argparse.Namespace, print_line: console.PrintLine,
          write_report: ReportWriter) -> RunSummary:
    from pipeline.vertex import commands  # pylint: disable=import-outside-toplevel
    from pipeline.vertex import jobs  # pylint: disable=import-outside-toplevel
    del write_report  # Nothing runs here to report on.
    with lock.exclusive_run(home):
      summary = RunSummary(status='failed', log_file=None, details={
          'engine': NAME, 'pipeline': None, 'dataset': settings.dataset.name})
      try:
        submitted, pipeline = commands.submit_run(
            args.profile, settings, environment, home, spec=args.spec,
            no_cache=not settings.enable_cache,
            parameters=commands.parameters(getattr(args, 'param', [])),
            remote={'api_endpoint': getattr(args, 'api_endpoint', None)},
            print_line=print_line, failure_policy=getattr(args, 'failure_policy', None))
      except (jobs.VertexJobError, ValueError) as error:
        summary.error = str(error)
      else:
        summary.status = 'submitted'
        summary.details.update(pipeline=pipeline, pipeline_job=submitted.resource_name,
                               console_link=submitted.console_link)
      return finish(summary, home, print_line)


ENGINE = VertexEngine()
