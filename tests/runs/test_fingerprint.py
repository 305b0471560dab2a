"""The nothing-new fingerprint (runs/fingerprint.py): what changes it, and when the pipeline's
last run counts as the same."""

import dataclasses
import importlib.util
import json
import os
import shutil
from pathlib import Path

import datadefs
from core.home import PipelineHome
from pipeline import environment as environment_lib
from pipeline import settings as settings_lib
from pipeline.engines import local
from runs import fingerprint as nothing_new
from runs import history


def _data(tmp_path) -> str:
  data = tmp_path / 'data'
  (data / 'span-1').mkdir(parents=True, exist_ok=True)
  csv = data / 'span-1' / 'a.csv'
  if not csv.exists():
    csv.write_text('x\n1\n')
  return str(data)


def _settings(tmp_path, dataset=None, **flags) -> settings_lib.RunSettings:
  """The run's settings as the CLI makes them (flags as on the command line)."""
  return settings_lib.run_settings(environment_lib.read(
      {}, dataset=dataset, data_root=_data(tmp_path), **flags))


def _settings_text(settings: settings_lib.RunSettings) -> str:
  return json.dumps(dataclasses.asdict(settings), sort_keys=True, default=str)


def test_same_inputs_same_fingerprint_and_each_change_shows(tmp_path):
  data_root = _data(tmp_path)
  text = _settings_text(_settings(tmp_path))
  base = nothing_new.input_fingerprint(text, data_root)
  assert nothing_new.input_fingerprint(text, data_root) == base
  assert nothing_new.input_fingerprint(_settings_text(_settings(tmp_path, train_steps=7)),
                                       data_root) != base
  csv = tmp_path / 'data' / 'span-1' / 'a.csv'
  stat = csv.stat()
  os.utime(csv, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # rewritten, same size
  touched = nothing_new.input_fingerprint(text, data_root)
  assert touched != base
  (tmp_path / 'data' / 'span-2').mkdir()
  (tmp_path / 'data' / 'span-2' / 'a.csv').write_text('x\n2\n')  # a new span arrives
  assert nothing_new.input_fingerprint(text, data_root) not in (base, touched)


def _own_dataset(tmp_path) -> Path:
  """A dataset folder of the user's, outside the project: the taxi definition and schema."""
  folder = tmp_path / 'my_dataset'
  folder.mkdir()
  for name in ('dataset.toml', 'schema.pbtxt'):
    shutil.copy(Path(datadefs.load('taxi').schema_path).parent / name, folder / name)
  return folder


def _rewrite_keeping_size_and_time(path: Path, old: str, new: str) -> None:
  """Edits the file's content only: the same size and modification time."""
  assert len(old) == len(new)
  stat = path.stat()
  text = path.read_text()
  assert old in text
  path.write_text(text.replace(old, new, 1))
  os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
  assert path.stat().st_size == stat.st_size


def test_a_curated_schema_outside_the_project_counts_by_its_content(tmp_path):
  """The schema decides what data is accepted: editing it (a drift threshold here) must re-run,
  though neither the settings (which name the schema by path) nor the project's files change.
  A fingerprint of the settings and the project's packages alone misses it."""
  folder = _own_dataset(tmp_path)
  schema = folder / 'schema.pbtxt'
  packages = [Path(importlib.util.find_spec(p).submodule_search_locations[0]).resolve()
              for p in nothing_new.PACKAGES]
  assert not any(folder.resolve().is_relative_to(p) for p in packages)
  settings = _settings(tmp_path, dataset=str(folder))
  assert settings.dataset.schema_path == str(schema)
  data_root = settings.data.data_root
  text = _settings_text(settings)
  by_engine = local._fingerprint(settings)  # pylint: disable=protected-access
  direct = nothing_new.input_fingerprint(text, data_root, files=[str(schema)])
  assert nothing_new.input_fingerprint(text, data_root) != direct  # the file's content counts

  _rewrite_keeping_size_and_time(schema, 'threshold: 0.2', 'threshold: 0.3')
  edited = _settings(tmp_path, dataset=str(folder))
  assert _settings_text(edited) == text  # the settings alone cannot tell
  assert nothing_new.input_fingerprint(text, data_root, files=[str(schema)]) != direct
  assert local._fingerprint(edited) != by_engine  # pylint: disable=protected-access


def _home(tmp_path) -> PipelineHome:
  home = PipelineHome(tmp_path / 'home')
  home.root.mkdir(parents=True, exist_ok=True)
  return home


def _run(pipeline, fingerprint, **values):
  return dict({'pipeline': pipeline, 'status': 'succeeded', 'input_fingerprint': fingerprint},
              **values)


def test_only_a_successful_run_with_the_same_fingerprint_and_store_counts(tmp_path):
  home = _home(tmp_path)
  fingerprint = nothing_new.input_fingerprint('settings', _data(tmp_path))
  assert nothing_new.last_success_if_unchanged(home, 'taxi', fingerprint) is None  # no run yet

  history.append(home, _run('taxi', fingerprint))
  assert nothing_new.last_success_if_unchanged(home, 'taxi', fingerprint) is None  # store gone
  home.metadata.write_text('')
  found = nothing_new.last_success_if_unchanged(home, 'taxi', fingerprint)
  assert found['status'] == 'succeeded' and found['input_fingerprint'] == fingerprint
  history.append(home, _run('taxi', fingerprint, status='failed'))
  assert nothing_new.last_success_if_unchanged(home, 'taxi', fingerprint) is None
  history.append(home, _run('taxi', 'other'))
  assert nothing_new.last_success_if_unchanged(home, 'taxi', fingerprint) is None
  history.append(home, _run('taxi', fingerprint, finished='2026-12-01T10:00:00'))
  assert nothing_new.last_success_if_unchanged(
      home, 'taxi', fingerprint)['finished'] == '2026-12-01T10:00:00'


def test_the_pipelines_own_latest_run_counts_not_another_pipelines(tmp_path):
  """Two pipelines share a home: a run of one neither hides nor stands in for the other's."""
  home = _home(tmp_path)
  home.metadata.write_text('')
  taxi, penguins = 'taxi-print', 'penguins-print'
  history.append(home, _run('chicago-taxi', taxi, finished='first'))
  history.append(home, _run('penguins', penguins))
  history.append(home, _run('penguins', 'later', status='failed'))
  assert nothing_new.last_success_if_unchanged(home, 'chicago-taxi', taxi)['finished'] == 'first'
  assert nothing_new.last_success_if_unchanged(home, 'penguins', penguins) is None
  assert nothing_new.last_success_if_unchanged(home, 'penguins', taxi) is None
  assert nothing_new.last_success_if_unchanged(home, 'other', taxi) is None


def test_the_run_history_decides_not_last_run_json(tmp_path):
  """last_run.json says what the home's latest run did, whichever pipeline it was."""
  home = _home(tmp_path)
  home.metadata.write_text('')
  home.last_run.write_text(json.dumps(_run('chicago-taxi', 'same')))
  assert nothing_new.last_success_if_unchanged(home, 'chicago-taxi', 'same') is None
