"""`python -m pipeline report` and `runs` (pipeline/report_commands.py via pipeline/cli.py)."""

import json

from pipeline import cli
from runs import history
from tests.runs.report import fixtures
from tests.runs.report import stores


def test_runs_lists_a_stores_runs_no_history_describes(home, uris, capsys):
  stores.vertex_home(home, uris)  # e.g. runs of `tfx run create`: no summary, no history
  assert cli.main(['runs', '--pipeline-home', str(home.root)]) == 0
  lines = capsys.readouterr().out.splitlines()
  assert lines[0].split()[:7] == ['time', 'engine', 'pipeline', 'status', 'blessed', 'key',
                                  'metric']
  rows = lines[1::2]
  assert [row.split()[-1] for row in rows] == [fixtures.EARLIER_RUN_ID, fixtures.RUN_ID]
  # The key metric: the one the blessing is on, by name.
  assert rows[-1].split()[2:] == ['vertex-local', '-', 'succeeded', 'yes',
                                  'binary_accuracy=0.8000', fixtures.RUN_ID]
  assert 'pushed /serving/chicago-taxi/1795988073' in lines[-1]


def test_runs_lists_every_run_of_the_history_refused_ones_too(home, capsys):
  runs = [
      # A run the data pre-check refused before any component ran.
      dict(engine='local', pipeline='cars', dataset='cars', task='regression',
           status='failed', finished='2026-12-04T10:00:00', data_root='/data/cars',
           log_file='/home/logs/run-1.log', components=[], metrics={},
           error="the input data does not match dataset 'cars':\n  /data/cars/a.csv: ..."),
      dict(engine='local', pipeline='cars', dataset='cars', task='regression',
           status='succeeded', finished='2026-12-04T10:05:00', data_root='/data/cars',
           log_file='/home/logs/run-2.log', blessed=True, run_id='cars-run-2',
           pushed_model='/serving/cars/2',
           metrics={'mean_absolute_error': 2.1, 'root_mean_squared_error': 2.9}),
      dict(engine='local', pipeline='chicago-taxi', dataset='taxi', task='binary',
           status='succeeded', finished='2026-12-04T10:09:00', blessed=False,
           metrics={'binary_accuracy': 0.89, 'auc': 0.94}, log_file='/home/logs/run-3.log',
           data_root='/data/taxi'),
  ]
  for run in runs:
    history.append(home, run)
  assert cli.main(['runs', '--pipeline-home', str(home.root)]) == 0
  lines = capsys.readouterr().out.splitlines()
  assert [line.split()[3:7] for line in lines[1::2]] == [
      ['cars', 'failed', '-', '-'], ['cars', 'succeeded', 'yes', 'mean_absolute_error=2.1000'],
      ['chicago-taxi', 'succeeded', 'no', 'binary_accuracy=0.8900']]
  assert lines[2] == ("    data /data/cars; log /home/logs/run-1.log; error: the input data does "
                      "not match dataset 'cars':")
  assert lines[4] == '    data /data/cars; log /home/logs/run-2.log; pushed /serving/cars/2'


def test_runs_of_an_empty_home_says_so(home, capsys):
  assert cli.main(['runs', '--pipeline-home', str(home.root)]) == 0
  assert capsys.readouterr().out.startswith('no runs recorded in ')


def test_report_rebuilds_the_latest_or_a_named_run(home, uris, capsys):
  stores.mlmd_home(home, uris)
  home.last_run.write_text(json.dumps(fixtures.summary()))
  assert cli.main(['report', '--pipeline-home', str(home.root)]) == 0
  assert capsys.readouterr().out == f'report: {home.report}\n'
  assert cli.main(['report', '--pipeline-home', str(home.root), '--run-id', 'run-2']) == 0
  assert home.report.exists()


def test_report_of_an_unknown_run_or_home_names_it(home, tmp_path, capsys):
  assert cli.main(['report', '--pipeline-home', str(home.root), '--run-id', 'nope']) == 2
  assert "no run 'nope'" in capsys.readouterr().err
  assert cli.main(['runs', '--pipeline-home', str(tmp_path / 'absent')]) == 2
  assert 'does not exist' in capsys.readouterr().err
