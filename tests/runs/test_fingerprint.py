"""The nothing-new fingerprint: what changes it, and when the last run counts as the same."""

import json
import os

from pipeline.local import config as config_lib
from runs import fingerprint as nothing_new


def _config(tmp_path, **overrides):
  data = tmp_path / 'data'
  (data / 'span-1').mkdir(parents=True, exist_ok=True)
  csv = data / 'span-1' / 'a.csv'
  if not csv.exists():
    csv.write_text('x\n1\n')
  return config_lib.LocalConfig(pipeline_home=tmp_path / 'home', data_root=str(data),
                                **overrides)


def test_same_inputs_same_fingerprint_and_each_change_shows(tmp_path):
  config = _config(tmp_path)
  base = nothing_new.input_fingerprint(config)
  assert nothing_new.input_fingerprint(config) == base
  assert nothing_new.input_fingerprint(_config(tmp_path, train_steps=7)) != base
  csv = tmp_path / 'data' / 'span-1' / 'a.csv'
  stat = csv.stat()
  os.utime(csv, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # rewritten, same size
  touched = nothing_new.input_fingerprint(config)
  assert touched != base
  (tmp_path / 'data' / 'span-2').mkdir()
  (tmp_path / 'data' / 'span-2' / 'a.csv').write_text('x\n2\n')  # a new span arrives
  assert nothing_new.input_fingerprint(config) not in (base, touched)


def test_only_a_successful_run_with_the_same_fingerprint_and_store_counts(tmp_path):
  config = _config(tmp_path)
  config.pipeline_home.mkdir(parents=True)
  fingerprint = nothing_new.input_fingerprint(config)
  assert nothing_new.last_success_if_unchanged(config, fingerprint) is None  # no run yet

  def last_run(**values):
    config.last_run_path.write_text(json.dumps(
        dict({'status': 'succeeded', 'input_fingerprint': fingerprint}, **values)))

  last_run()
  assert nothing_new.last_success_if_unchanged(config, fingerprint) is None  # store gone
  (config.pipeline_home / 'metadata.sqlite').write_text('')
  assert nothing_new.last_success_if_unchanged(config, fingerprint)['status'] == 'succeeded'
  last_run(status='failed')
  assert nothing_new.last_success_if_unchanged(config, fingerprint) is None
  last_run(input_fingerprint='other')
  assert nothing_new.last_success_if_unchanged(config, fingerprint) is None
