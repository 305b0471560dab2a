"""The run history (runs/history.py): every run of a pipeline home, one JSON line each, and the
per-pipeline questions asked of it when several pipelines share the home."""

import json

from core.home import PipelineHome
from runs import history
from runs import summary as run_summary


def _home(tmp_path) -> PipelineHome:
  return PipelineHome(tmp_path / 'home')  # not made yet: append makes it


def test_runs_come_back_oldest_first_one_line_each(tmp_path):
  home = _home(tmp_path)
  assert history.runs(home) == []  # no history file yet
  history.append(home, {'pipeline': 'a', 'status': 'failed', 'error': 'line one\nline two'})
  history.append(home, {'pipeline': 'b', 'status': 'succeeded'})
  assert home.history == home.root / 'runs.jsonl'
  assert len(home.history.read_text().splitlines()) == 2
  assert history.runs(home) == [
      {'pipeline': 'a', 'status': 'failed', 'error': 'line one\nline two'},
      {'pipeline': 'b', 'status': 'succeeded'}]


def test_a_line_that_does_not_parse_is_left_out(tmp_path):
  home = _home(tmp_path)
  history.append(home, {'pipeline': 'a', 'status': 'succeeded'})
  with open(home.history, 'a', encoding='utf-8') as f:
    f.write('{"pipeline": "a", "sta\n')  # a run killed while writing its line
    f.write('["not", "a", "run"]\n')
  history.append(home, {'pipeline': 'a', 'status': 'failed'})
  assert [run['status'] for run in history.runs(home)] == ['succeeded', 'failed']


def test_the_latest_pushed_model_of_a_pipeline_is_never_another_pipelines(tmp_path):
  home = _home(tmp_path)
  assert history.latest_pushed_model(home, 'chicago-taxi') is None
  history.append(home, {'pipeline': 'chicago-taxi', 'pushed_model': '/serving/chicago-taxi/1'})
  history.append(home, {'pipeline': 'chicago-taxi', 'pushed_model': '/serving/chicago-taxi/2'})
  history.append(home, {'pipeline': 'penguins', 'pushed_model': '/serving/penguins/3'})
  history.append(home, {'pipeline': 'chicago-taxi', 'pushed_model': None, 'status': 'failed'})
  history.append(home, {'pipeline': 'penguins', 'pushed_model': None})
  assert history.latest_pushed_model(home, 'chicago-taxi') == '/serving/chicago-taxi/2'
  assert history.latest_pushed_model(home, 'penguins') == '/serving/penguins/3'
  assert history.latest_pushed_model(home, 'taxi-fare') is None  # none of its own pushed
  assert history.latest_pushed_model(home, None) is None


def test_finish_records_every_run_and_names_the_pipelines_own_latest_model(tmp_path):
  """Each outcome is added to the history; a run that pushes nothing names the latest model its
  own pipeline pushed, though another pipeline of the home pushed one since."""
  home = _home(tmp_path)
  lines = []

  def finish(pipeline, details=None, **values):
    summary = run_summary.RunSummary(
        log_file=None, details={'engine': 'local', 'pipeline': pipeline, **(details or {})},
        **values)
    return run_summary.finish(summary, home, lines.append)

  finish('chicago-taxi', status='succeeded', blessed=True, pushed_model='/serving/taxi/1')
  finish('penguins', status='succeeded', blessed=True, pushed_model='/serving/penguins/2')
  finish('chicago-taxi', status='failed', error='Trainer failed: OSError: disk full')
  lines.clear()
  nothing_new = finish('chicago-taxi', {'nothing_new': True}, status='succeeded', blessed=True)
  assert 'pushed model: none (latest pushed: /serving/taxi/1)' in lines
  nothing_new_json = nothing_new.to_json()
  assert nothing_new_json['latest_pushed_model'] == '/serving/taxi/1'
  assert json.loads(home.last_run.read_text())['latest_pushed_model'] == '/serving/taxi/1'
  assert [(run['pipeline'], run['status'], run['latest_pushed_model'])
          for run in history.runs(home)] == [
              ('chicago-taxi', 'succeeded', '/serving/taxi/1'),
              ('penguins', 'succeeded', '/serving/penguins/2'),
              ('chicago-taxi', 'failed', '/serving/taxi/1'),
              ('chicago-taxi', 'succeeded', '/serving/taxi/1')]
  assert history.runs(home)[-1] == nothing_new_json
  assert history.runs(home)[2]['error'] == 'Trainer failed: OSError: disk full'
