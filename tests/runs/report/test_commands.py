"""`python -m pipeline report` and `runs` (pipeline/report_commands.py via pipeline/cli.py)."""

import json

from pipeline import cli
from tests.runs.report import fixtures
from tests.runs.report import stores


def test_runs_lists_every_run_with_status_blessing_metric_and_model(home, uris, capsys):
  stores.vertex_home(home, uris)
  assert cli.main(['runs', '--pipeline-home', str(home.root)]) == 0
  lines = capsys.readouterr().out.splitlines()
  assert lines[0].split()[:6] == ['run', 'id', 'started', 'engine', 'status', 'blessed']
  assert [line.split()[0] for line in lines[1:]] == [fixtures.EARLIER_RUN_ID, fixtures.RUN_ID]
  # The key metric: the one the blessing is on, by name.
  assert lines[-1].split()[3:] == ['vertex-local', 'succeeded', 'yes', 'binary_accuracy=0.8000',
                                   '/serving/chicago-taxi/1795988073']


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
