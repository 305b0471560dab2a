"""`python -m pipeline run --engine vertex-local`: the local engine with `make run`'s console,
run lock, log file, data pre-check, last_run.json and exit codes."""

import json
from pathlib import Path
from typing import Optional

from datasets.definition import Dataset
from pipeline.local import console
from pipeline.local import run as local_run
from pipeline.local import preflight
from pipeline.local import run_lock
from pipeline.local import run_report
from vertex_local import engine
from vertex_local import spec as spec_lib

DATASET_KEY = 'dataset'  # transform.preprocessing.DATASET_KEY, without importing TensorFlow.


def run_and_report(settings: engine.EngineSettings, print_line: console.PrintLine) -> \
    run_report.RunSummary:
  """Runs the compiled spec; never raises for a failed run: the summary says what failed.

  Raises run_lock.PipelineBusyError (and writes nothing) when another run uses the same home.
  """
  with run_lock.exclusive_run(settings.pipeline_home):
    log_file = local_run.new_log_file(settings.pipeline_home / 'logs')
    summary = run_report.RunSummary(
        status='failed', log_file=str(log_file),
        details={'engine': engine.ENGINE_NAME, 'spec': str(settings.spec_path)})
    last_run = settings.pipeline_home / 'last_run.json'
    print_line(f'pipeline spec {settings.spec_path} on the local Vertex engine: data '
               f'{settings.data_root}')
    print_line(f'  home {settings.pipeline_home}; TF/Beam logs in {log_file}')
    with console.output_to_log_file(log_file) as print_progress:
      try:
        preflight.check_data_root(settings.data_root, dataset_of_spec(settings.spec_path),
                                  source='csv')
        engine.run(settings, summary, print_progress, log=_log)
      except (preflight.DataCheckError, engine.EngineError, spec_lib.SpecError) as error:
        summary.error = str(error)
    return local_run.finish(summary, last_run, print_line)


def dataset_of_spec(spec_path) -> Optional[Dataset]:
  """The dataset definition compiled into the spec (Transform's custom_config carries it);
  None for a spec without one, which the check then reads as the default dataset."""
  found = []

  def visit(value):
    if isinstance(value, dict):
      for item in value.values():
        visit(item)
    elif isinstance(value, list):
      for item in value:
        visit(item)
    elif isinstance(value, str) and f'"{DATASET_KEY}"' in value and not found:
      try:
        parsed = json.loads(value)
      except ValueError:
        return
      if isinstance(parsed, dict) and isinstance(parsed.get(DATASET_KEY), dict):
        found.append(Dataset.from_dict(parsed[DATASET_KEY]))

  visit(json.loads(Path(spec_path).read_text()))
  return found[0] if found else None


def _log(text: str) -> None:
  print(text, flush=True)  # fd 1 is the run's log file while the engine runs
