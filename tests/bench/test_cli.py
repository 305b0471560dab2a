"""`python -m bench.input_pipeline` end to end on tiny data: the results it writes and prints."""

import json
import subprocess
import sys

import pytest

from tests.bench.conftest import TINY_BATCH, TINY_EXAMPLES
from tests.conftest import REPO_ROOT

_REQUIRED_MACHINE_KEYS = {'cpu_model', 'logical_cores', 'memory_gib', 'python', 'tensorflow'}


@pytest.mark.integration  # Runs the benchmark (Keras fits) in a subprocess.
def test_tiny_run_writes_results_chart_and_table(tiny_data, tiny_data_dir, tmp_path):
  del tiny_data  # Made first, so the run reuses it and its generation is not timed here.
  output = tmp_path / 'results'
  process = subprocess.run(
      [sys.executable, '-m', 'bench.input_pipeline', '--examples', str(TINY_EXAMPLES),
       '--batch-size', str(TINY_BATCH), '--repeats', '2', '--warmup-batches', '2',
       '--timed-batches', '4', '--python-timed-batches', '2',
       '--paired-rounds', '3', '--paired-window-steps', '2', '--paired-lead-steps', '1',
       '--variants', 'synthetic_ceiling,tuned,tfx_default,keras_sequence,from_generator',
       '--output', str(output), '--data-dir', str(tiny_data_dir)],
      cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
  assert process.returncode == 0, process.stderr[-3000:]

  results = json.loads((output / 'input_pipeline.json').read_text())
  assert _REQUIRED_MACHINE_KEYS <= set(results['machine'])
  assert (results['examples'], results['batch_size']) == (TINY_EXAMPLES, TINY_BATCH)
  assert list(results['variants']) == [
      'synthetic_ceiling', 'tuned', 'tfx_default', 'keras_sequence_w1', 'keras_sequence_w2',
      'keras_sequence', 'from_generator']
  for name, rates in results['variants'].items():
    assert set(rates) == {'input_ex_per_s', 'fit_ex_per_s'}, name
    assert all(value > 0 for value in rates.values()), name
  assert results['variants']['keras_sequence'] == (
      results['variants'][results['keras_sequence_best']])
  assert all(len(r['fit_ex_per_s']) == 2 for r in results['repeats'].values())
  assert results['data']['generated_this_run'] is False
  assert results['errors'] == {}

  # tuned_no_cache was not run: its target is reported as not measured, the others measured.
  met = {check['target']: check['met'] for check in results['targets']}
  assert len(met) == 5
  assert [target for target, value in met.items() if value is None] == [
      'tuned_no_cache input-only >= 1.3 x tfx_default']
  assert (output / 'input_pipeline.png').read_bytes().startswith(b'\x89PNG')

  # The ceiling and tuned took turns: 3 windows each, tuned's ratio per round to the
  # ceiling's window of that round; the fit target is judged on their median.
  [paired] = results['paired_fit'].values()
  assert list(results['paired_fit']) == ['tuned']
  assert len(paired['ratios']) == len(paired['ex_per_s']) == 3
  assert all(ratio > 0 for ratio in paired['ratios'])
  [fit_target] = [check for check in results['targets'] if check['metric'] == 'fit_ex_per_s']
  assert fit_target['method'] == 'paired windows'
  assert fit_target['ratio'] == paired['median_ratio_to_ceiling']

  table = process.stdout
  assert '| Variant | Input-only ex/s | Fit ex/s |' in table
  for check in results['targets']:
    assert check['target'] in table
