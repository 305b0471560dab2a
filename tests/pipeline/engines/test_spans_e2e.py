"""New data arrives as spans: each run ingests the newest span, compares its model with the
latest blessed one, and refuses a span whose distribution drifted past the schema's thresholds.

These runs also use a non-default file layout (4 uncompressed shards per split, set with the
CLI's --num-shards/--compression), so the whole pipeline is shown to read and write it:
StatisticsGen, Transform and the Evaluator read ExampleGen's '.tfrecord' files, the trainer
Transform's. The default layout (8 GZIP shards) is what the other e2e tests run.
"""

import csv
import glob
import gzip
import json
import os

import pytest

from tests.conftest import read_last_run, read_taxi_rows, run_cli, write_csv

pytestmark = pytest.mark.e2e


def _run(home, data_root):
  return run_cli(['run', '--num-shards', '4', '--compression', 'none'], home,
                 data_root=data_root, train_steps=60,
                 extra_env={'INPUT_PATTERN': 'span-{SPAN}/*'})


def _write_export_shapes(folder, header, rows):
  half = len(rows) // 2
  order = list(reversed(header))
  folder.mkdir(parents=True)
  with gzip.open(folder / 'trips.csv.gz', 'wt', newline='', encoding='utf-8-sig') as f:
    writer = csv.writer(f, lineterminator='\r\n', quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(order)
    for row in rows[:half]:  # every field quoted (commas inside quotes: the reader's tests)
      writer.writerow([row[header.index(name)] for name in order])
  tips = header.index('tips')
  whole = [list(row) for row in rows[half:]]
  for row in whole:
    row[tips] = str(int(float(row[tips]))) if row[tips] else ''
  write_csv(folder / 'more.csv', header, whole)


def _latest_split_files(home, component, output):
  """{split: file names} of the newest output artifact of `component`."""
  artifact_dirs = glob.glob(os.path.join(home, 'pipeline_root', component, output, '*'))
  newest = max(artifact_dirs, key=lambda path: int(os.path.basename(path)))
  return {split: sorted(os.listdir(os.path.join(newest, f'Split-{split}')))
          for split in ('train', 'eval')}


def _span_of_latest_examples(home) -> int:
  from tfx.orchestration import metadata  # pylint: disable=import-outside-toplevel
  with metadata.Metadata(metadata.sqlite_metadata_connection_config(
      str(home / 'metadata.sqlite'))) as store:
    examples = [artifact for artifact in store.store.get_artifacts_by_type('Examples')
                if '/CsvExampleGen/' in artifact.uri]  # Not Transform's transformed examples.
  latest = max(examples, key=lambda artifact: artifact.id)
  return latest.custom_properties['span'].int_value


def test_two_spans_in_sequence_then_a_drifted_span_is_refused(tmp_path):
  header, rows = read_taxi_rows()
  data_root = tmp_path / 'data'
  write_csv(data_root / 'span-1' / 'trips.csv', header, rows[0:6000:4])
  home = tmp_path / 'home'

  first = _run(home, data_root)
  assert first.returncode == 0, first.stdout + first.stderr[-2000:]
  first_summary = read_last_run(home)
  assert first_summary['blessed'] is True
  assert _span_of_latest_examples(home) == 1
  assert 'binary_accuracy_diff' not in first_summary['metrics']  # No baseline yet.
  # The requested layout: 4 uncompressed shards per split from ExampleGen and Transform.
  for component, output, prefix in (('CsvExampleGen', 'examples', 'data_tfrecord'),
                                     ('Transform', 'transformed_examples',
                                      'transformed_examples')):
    assert _latest_split_files(home, component, output) == {
        split: [f'{prefix}-0000{i}-of-00004.tfrecord' for i in range(4)]
        for split in ('train', 'eval')}

  # Span 2 arrives (same distribution, other rows): ingested, compared with span 1's model. It
  # comes as real exports do: gzip, a UTF-8 BOM, CRLF, columns in another order, every field
  # quoted; and a file whose float column holds only whole numbers (tips), still FLOAT.
  _write_export_shapes(data_root / 'span-2', header, rows[1:6000:4])
  second = _run(home, data_root)
  assert second.returncode == 0, second.stdout + second.stderr[-2000:]
  second_summary = read_last_run(home)
  assert _span_of_latest_examples(home) == 2
  cached = {c['name'] for c in second_summary['components'] if c['cached']}
  assert 'CsvExampleGen' not in cached and 'Trainer' not in cached
  # The Evaluator compared against the latest blessed model (span 1's): diffs are reported.
  assert 'binary_accuracy_diff' in second_summary['metrics']

  # No new span since: nothing to do, and the run says so at once.
  again = _run(home, data_root)
  assert again.returncode == 0, again.stdout + again.stderr[-2000:]
  assert 'nothing new: no new data' in again.stdout
  assert read_last_run(home)['nothing_new'] is True
  # Span 2's model is pushed only when no worse than span 1's (60 steps: either may win).
  latest = second_summary['pushed_model'] or first_summary['pushed_model']
  assert read_last_run(home)['latest_pushed_model'] == latest

  # Span 3: payment types shifted far from the accepted data: stopped before Transform.
  drifted = [list(row) for row in rows[2:6000:4]]
  column = header.index('payment_type')
  for row in drifted:
    row[column] = 'Cash'
  write_csv(data_root / 'span-3' / 'trips.csv', header, drifted)
  third = _run(home, data_root)
  assert third.returncode == 1
  summary = read_last_run(home)
  assert summary['status'] == 'failed' and summary['pushed_model'] is None
  assert 'payment_type: COMPARATOR_L_INFTY_HIGH' in summary['error']
  assert 'last accepted data' in summary['error']
  assert 'Transform' not in [c['name'] for c in summary['components']]
  assert json.dumps(summary)  # Still a valid summary.
