"""The benchmark's results: the JSON document, the targets check and the Markdown table."""

import dataclasses
import os
import platform
from typing import Dict, List, Optional

from bench import variants as variants_lib
from bench.measure import Measurement

TUNED = 'tuned'


@dataclasses.dataclass(frozen=True)
class Target:
  """`numerator`'s `metric` must be >= `threshold` times `denominator`'s."""
  description: str
  numerator: str
  denominator: str
  metric: str  # 'input_ex_per_s' or 'fit_ex_per_s'
  threshold: float


TARGETS = (
    Target(f'tuned fit >= 0.95 x {variants_lib.CEILING} fit', TUNED, variants_lib.CEILING,
           'fit_ex_per_s', 0.95),
    Target('tuned input-only >= 3 x tfx_default', TUNED, 'tfx_default', 'input_ex_per_s', 3.0),
    Target('tuned_no_cache input-only >= 1.3 x tfx_default', 'tuned_no_cache', 'tfx_default',
           'input_ex_per_s', 1.3),
    Target('tuned input-only >= 10 x keras_sequence (best)', TUNED,
           variants_lib.KERAS_SEQUENCE, 'input_ex_per_s', 10.0),
    Target('tuned input-only >= 10 x from_generator', TUNED, 'from_generator',
           'input_ex_per_s', 10.0),
)


def machine_info() -> Dict[str, object]:
  # Imported here: only the report needs their versions.
  import apache_beam  # pylint: disable=import-outside-toplevel
  import numpy  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  import tensorflow_transform  # pylint: disable=import-outside-toplevel
  import tf_keras  # pylint: disable=import-outside-toplevel
  import tfx  # pylint: disable=import-outside-toplevel
  import tfx_bsl  # pylint: disable=import-outside-toplevel

  return {
      'cpu_model': _proc_value('/proc/cpuinfo', 'model name') or platform.processor(),
      'logical_cores': os.cpu_count(),
      'usable_cores': len(os.sched_getaffinity(0)),
      'memory_gib': _memory_gib(),
      # The machine may be shared: how busy it was when the benchmark started.
      'load_average_1m_at_start': round(os.getloadavg()[0], 2),
      'platform': platform.platform(),
      'python': platform.python_version(),
      'tensorflow': tf.__version__,
      'tf_keras': tf_keras.__version__,
      'tensorflow_transform': tensorflow_transform.__version__,
      'tfx_bsl': tfx_bsl.__version__,
      'tfx': tfx.__version__,
      'apache_beam': apache_beam.__version__,
      'numpy': numpy.__version__,
  }


def _proc_value(path: str, key: str) -> Optional[str]:
  try:
    with open(path, encoding='utf-8') as f:
      for line in f:
        name, _, value = line.partition(':')
        if name.strip() == key:
          return value.strip()
  except OSError:
    return None
  return None


def _memory_gib() -> Optional[float]:
  total_kib = _proc_value('/proc/meminfo', 'MemTotal')
  return round(int(total_kib.split()[0]) / (1 << 20), 1) if total_kib else None


def _sequence_settings(measurements: Dict[str, Measurement]) -> List[str]:
  """The keras_sequence_w* variants measured, in report order."""
  return [name for name in measurements if name.startswith(variants_lib.KERAS_SEQUENCE + '_')]


def best_keras_sequence(measurements: Dict[str, Measurement]) -> Optional[str]:
  """The keras_sequence_w* setting with the highest input-only throughput."""
  names = _sequence_settings(measurements)
  return max(names, key=lambda n: measurements[n].input_ex_per_s) if names else None


def check_targets(variants: Dict[str, Dict[str, float]],
                  paired_fit: Optional[Dict[str, Dict[str, object]]] = None
                  ) -> List[Dict[str, object]]:
  """Each target with its measured ratio and whether it is met (None: not measured). A fit
  target against the ceiling takes the paired measurement's median ratio when there is one
  (bench/paired_fit.py: the separate fit runs are too far apart in time to compare)."""
  checks = []
  for target in TARGETS:
    ratio, method = None, 'separate runs'
    paired = (paired_fit or {}).get(target.numerator)
    if (target.metric == 'fit_ex_per_s' and target.denominator == variants_lib.CEILING and paired):
      ratio, method = paired['median_ratio_to_ceiling'], 'paired windows'
    elif target.numerator in variants and target.denominator in variants:
      denominator = variants[target.denominator][target.metric]
      ratio = variants[target.numerator][target.metric] / denominator if denominator else None
    checks.append({
        'target': target.description,
        'metric': target.metric,
        'method': method,
        'threshold': target.threshold,
        'ratio': ratio,
        'met': None if ratio is None else ratio >= target.threshold,
    })
  return checks


def build(machine: Dict[str, object], examples: int, batch_size: int,
          measurements: Dict[str, Measurement], extra: Dict[str, object]) -> Dict[str, object]:
  """The results document: the required top-level keys first, details in `extra` keys."""
  best = best_keras_sequence(measurements)
  last_setting = (_sequence_settings(measurements) or [None])[-1]
  variants = {}
  for name, m in measurements.items():
    variants[name] = {'input_ex_per_s': m.input_ex_per_s, 'fit_ex_per_s': m.fit_ex_per_s}
    if name == last_setting:
      # The best worker setting is listed right after the last of the settings.
      variants[variants_lib.KERAS_SEQUENCE] = dict(variants[best])
  results = {
      'machine': machine,
      'examples': examples,
      'batch_size': batch_size,
      'variants': variants,
      'targets': check_targets(variants, extra.get('paired_fit')),
      'keras_sequence_best': best,
      'repeats': {name: {'input_ex_per_s': m.input_repeats, 'fit_ex_per_s': m.fit_repeats,
                         'timed_batches': m.timed_batches}
                  for name, m in measurements.items()},
      'cached_in_memory': {name: m.caches for name, m in measurements.items()},
      'first_pass_input_ex_per_s': {name: m.first_pass_input_ex_per_s
                                    for name, m in measurements.items() if m.caches},
  }
  results.update(extra)
  return results


def _rate(value: Optional[float]) -> str:
  return '-' if value is None else f'{value:,.0f}'


def _ratio(value: Optional[float]) -> str:
  return '-' if value is None else f'{value:.2f}x'


def markdown(results: Dict[str, object]) -> str:
  """The throughput table and the targets check, in Markdown."""
  variants = results['variants']
  ceiling = variants.get(variants_lib.CEILING, {}).get('fit_ex_per_s')
  tuned_input = variants.get(TUNED, {}).get('input_ex_per_s')
  lines = [
      f"{results['examples']:,} transformed taxi examples, batch size {results['batch_size']}, "
      f"median of {results['protocol']['repeats']} repeats, "
      f"{results['machine']['usable_cores']} cores ({results['machine']['cpu_model']}).",
      '',
      '| Variant | Input-only ex/s | Fit ex/s | Fit vs ceiling | tuned input-only vs this |',
      '| --- | ---: | ---: | ---: | ---: |',
  ]
  for name, rates in variants.items():
    fit_share = rates['fit_ex_per_s'] / ceiling if ceiling else None
    speedup = tuned_input / rates['input_ex_per_s'] if tuned_input else None
    label = name
    if name == variants_lib.KERAS_SEQUENCE:
      label = f"{name} (best: {results['keras_sequence_best']})"
    lines.append(f"| {label} | {_rate(rates['input_ex_per_s'])} | {_rate(rates['fit_ex_per_s'])} "
                 f"| {_ratio(fit_share)} | {_ratio(speedup)} |")
  for name, message in results.get('errors', {}).items():
    lines.append(f'| {name} | failed: {message} | | | |')
  paired = results.get('paired_fit') or {}
  if paired:
    lines += ['', f'Fit against the ceiling in alternating windows ({variants_lib.CEILING} and each '
              'variant take turns, bench/paired_fit.py):', '',
              '| Variant | Fit ex/s (median window) | Median ratio to the ceiling\'s window | '
              'Range over rounds |', '| --- | ---: | ---: | ---: |']
    for name, result in paired.items():
      lines.append(f"| {name} | {_rate(result['median_ex_per_s'])} | "
                   f"{_ratio(result['median_ratio_to_ceiling'])} | "
                   f"{_ratio(min(result['ratios']))} - {_ratio(max(result['ratios']))} |")
  lines += ['', '| Target | Measured | Met |', '| --- | ---: | --- |']
  for check in results['targets']:
    met = {True: 'met', False: 'NOT met', None: 'not measured'}[check['met']]
    how = ' (paired windows)' if check.get('method') == 'paired windows' else ''
    lines.append(f"| {check['target']} | {_ratio(check['ratio'])}{how} | {met} |")
  notes = results.get('notes', [])
  if notes:
    lines.append('')
    lines += [f'- {note}' for note in notes]
  return '\n'.join(lines)
