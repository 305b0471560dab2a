"""`make run` with model = "gradient_boosted_trees" on the bundled penguins: the trees go
through the same Transform, Evaluator and Pusher, are blessed, and the pushed model answers raw
rows through the serving package in a fresh process (`python -m serving batch`)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import datadefs
from tests.conftest import REPO_ROOT, read_last_run, run_cli

pytestmark = pytest.mark.e2e


def test_trees_on_the_penguins_are_blessed_pushed_and_served(tmp_path):
  definition = tmp_path / 'penguins'
  shutil.copytree(REPO_ROOT / 'datadefs' / 'penguins', definition)
  toml = definition / 'dataset.toml'
  toml.write_text(toml.read_text().replace(
      'task = "multiclass"\n', 'task = "multiclass"\nmodel = "gradient_boosted_trees"\n', 1))
  home = tmp_path / 'home'
  run = run_cli(['run'], home, extra_env={'DATASET': str(definition)})
  summary = read_last_run(home)
  assert run.returncode == 0, run.stdout + run.stderr
  assert summary['status'] == 'succeeded' and summary['blessed'] is True, summary
  pushed = Path(summary['pushed_model'])
  assert (pushed / 'saved_model.pb').is_file()

  rows = tmp_path / 'rows.jsonl'
  csv_path = Path(datadefs.data_root(datadefs.load('penguins'))) / 'penguins.csv'
  header, first = csv_path.read_text().splitlines()[:2]
  rows.write_text(json.dumps(dict(zip(header.split(','), first.split(',')))) + '\n')
  served = subprocess.run(
      [sys.executable, '-m', 'serving', 'batch', '--model', str(pushed), '--format', 'jsonl',
       '--output', str(tmp_path / 'out'), str(rows)],
      cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)
  assert served.returncode == 0, served.stderr[-2000:]
  assert json.loads(served.stdout.strip().splitlines()[-1]) == {'predicted': 1, 'failed': 0}
