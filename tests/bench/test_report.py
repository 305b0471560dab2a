"""bench/report.py: the fit target is judged on the paired windows when they were measured."""

from bench import report


def _variants(ceiling_fit, tuned_fit):
  return {'synthetic_ceiling': {'input_ex_per_s': 1.0, 'fit_ex_per_s': ceiling_fit},
          'tuned': {'input_ex_per_s': 1.0, 'fit_ex_per_s': tuned_fit}}


def _fit_check(checks):
  [check] = [c for c in checks if c['metric'] == 'fit_ex_per_s']
  return check


def test_without_paired_windows_the_separate_runs_are_compared():
  check = _fit_check(report.check_targets(_variants(100.0, 80.0)))
  assert (check['ratio'], check['met'], check['method']) == (0.8, False, 'separate runs')


def test_paired_windows_decide_the_fit_target():
  paired = {'tuned': {'median_ratio_to_ceiling': 0.97, 'ratios': [0.9, 0.97, 1.0]}}
  check = _fit_check(report.check_targets(_variants(100.0, 80.0), paired))
  assert (check['ratio'], check['met'], check['method']) == (0.97, True, 'paired windows')
  # Only the fit target against the ceiling; the input-only targets keep their runs.
  others = [c for c in report.check_targets(_variants(100.0, 80.0), paired)
            if c['metric'] != 'fit_ex_per_s']
  assert all(c['method'] == 'separate runs' for c in others)


def test_only_variants_whose_input_keeps_up_are_paired():
  from bench import paired_fit  # pylint: disable=import-outside-toplevel
  assert paired_fit.keeps_up(200_000, 100_000)
  assert not paired_fit.keeps_up(150_000, 100_000)
