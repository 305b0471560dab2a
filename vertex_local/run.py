"""`python -m pipeline run --engine vertex-local`: the local engine, reported as every engine
reports a run (runs/: lock, console, log file, data pre-check, summary, history, report)."""

import json
import threading
from typing import Any, Callable, Optional

import datadefs
from core.names import DATASET_KEY
from datadefs.definition import Dataset
from runs import console
from runs import lock
from runs import precheck
from runs.summary import ReportWriter, RunSummary, add_task_metrics, finish
from vertex_local import ENGINE_NAME
from vertex_local import engine
from vertex_local import spec as spec_lib


def run_and_report(settings: engine.EngineSettings, print_line: console.PrintLine,
                   write_report: Optional[ReportWriter] = None, api: Any = None,
                   cancelled: Optional[threading.Event] = None,
                   on_task: Callable[[Any], None] = lambda result: None) -> RunSummary:
  """Runs the compiled spec; never raises for a failed run: the summary says what failed.

  `api`, `cancelled`, `on_task`: as engine.run's (a job submitted to the local API runs with
  that API). Raises lock.PipelineBusyError (and writes nothing) when another run uses the same
  home.
  """
  home = settings.home
  with lock.exclusive_run(home):
    log_file = home.new_log_file()
    summary = RunSummary(status='failed', log_file=str(log_file), details={
        'engine': ENGINE_NAME, 'spec': str(settings.spec_path), 'data_root': settings.data_root})
    print_line(f'pipeline spec {settings.spec_path} on the local Vertex engine')
    print_line(f'  home {home.root}; TF/Beam logs in {log_file}')
    with console.output_to_log_file(log_file) as print_progress:
      try:
        job = engine.load_job(settings)
        dataset = dataset_of_spec(job) or datadefs.load()
        summary.details.update(pipeline=job.pipeline_name, dataset=dataset.name,
                               task=dataset.task)
        if dataset.schema_path:  # Known when the spec's dataset is loaded here, not from the spec.
          summary.details['schema'] = dataset.schema_path
        # The same files the spec's ExampleGen reads, checked against the spec's dataset.
        data_root = engine.local_input_base(settings)
        summary.details['data_root'] = data_root
        print_progress(f'  data {data_root}')
        precheck.check_data_root(data_root, dataset,
                                 input_pattern=input_pattern_of_spec(job), source='csv')
        engine.run(settings, summary, print_progress, log=_log, api=api, cancelled=cancelled,
                   on_task=on_task)
        add_task_metrics(summary, dataset)
      except (precheck.DataCheckError, engine.EngineError, spec_lib.SpecError) as error:
        summary.error = str(error)
        _log(f'the run stopped: {error}')  # the log says why, as the console does
    return finish(summary, home, print_line, write_report)


def dataset_of_spec(job: spec_lib.CompiledJob) -> Optional[Dataset]:
  """The dataset definition compiled into the spec (Transform's custom_config carries it);
  None for a spec without one."""
  for task, config in _json_parameters(job, 'custom_config'):
    if isinstance(config.get(DATASET_KEY), dict):
      return Dataset.from_custom_config(config, task)
  return None


def input_pattern_of_spec(job: spec_lib.CompiledJob) -> Optional[str]:
  """The file pattern the spec's ExampleGen reads under its input_base (e.g. 'penguins.csv'
  or 'span-{SPAN}/*'); None when it reads every file ('*')."""
  for _, config in _json_parameters(job, 'input_config'):
    patterns = {split.get('pattern') for split in config.get('splits', [])}
    if len(patterns) == 1 and None not in patterns:
      [pattern] = patterns
      return None if pattern == '*' else pattern
  return None


def _json_parameters(job: spec_lib.CompiledJob, key: str):
  """(task name, value) of each task's constant JSON-object parameter `key`."""
  for task in job.tasks.values():
    if key in task.parameters:
      value = spec_lib.constant_parameter(task, key, job)
      value = json.loads(value) if isinstance(value, str) and value else value
      if isinstance(value, dict):
        yield task.name, value


def _log(text: str) -> None:
  print(text, flush=True)  # fd 1 is the run's log file while the engine runs
