"""The image benchmark's checks and Markdown tables (bench/images.py)."""

from typing import Dict, List, Optional

from bench import image_variants as variants_lib

WARM = 'tfdata_cache'
SEQUENCES = (variants_lib.SEQUENCE + '_alone', variants_lib.SEQUENCE + '_w2')
# Issue 21: warm-cache tf.data at least this many times the (best) PIL Sequence.
WARM_OVER_SEQUENCE = 3.0


def checks(sizes: List[Dict[str, object]]) -> List[Dict[str, object]]:
  """Per size: warm tfdata_cache over the best PIL Sequence setting (None: not measured)."""
  results = []
  for size in sizes:
    variants = size.get('variants') or {}
    measured = [name for name in SEQUENCES if name in variants]
    ratio, best = None, None
    if WARM in variants and measured:
      best = max(measured, key=lambda name: variants[name]['images_per_s'])
      ratio = variants[WARM]['images_per_s'] / variants[best]['images_per_s']
    results.append({
        'size': size['size'],
        'target': f'{WARM} warm passes >= {WARM_OVER_SEQUENCE:g} x best PIL Sequence',
        'best_sequence': best,
        'ratio': ratio,
        'met': None if ratio is None else ratio >= WARM_OVER_SEQUENCE,
    })
  return results


def _rate(value: Optional[float]) -> str:
  return '-' if value is None else f'{value:,.0f}'


def _spread(runs: List[float]) -> str:
  return f'{min(runs):,.0f} - {max(runs):,.0f}'


def size_table(size: Dict[str, object]) -> List[str]:
  subset = ' (a seeded subset)' if size['subset'] else ''
  lines = [f"### {size['size']} px: {size['images']:,} images{subset}", '']
  if 'error' in size:
    return lines + [f"failed: {size['error']}", '']
  variants = size['variants']
  ceiling = variants.get(variants_lib.CEILING, {}).get('images_per_s')
  lines += ['| Variant | images/s (median) | runs range | first pass images/s (make s) | '
            'vs ceiling |', '| --- | ---: | ---: | ---: | ---: |']
  for name, entry in variants.items():
    share = f"{entry['images_per_s'] / ceiling:.2f}x" if ceiling else '-'
    first = _rate(entry.get('first_pass_images_per_s'))
    if 'make_seconds' in entry:
      first += f" ({entry['make_seconds']:.2f})"
    lines.append(f"| {name} | {_rate(entry['images_per_s'])} | {_spread(entry['runs'])} | "
                 f"{first} | {share} |")
  decode = size.get('decode_one_thread') or {}
  if decode:
    lines += ['', 'One thread, images/s (the cost of one image: bench/image_decode_cost.py):',
              '', '| Decoder | images/s (median) | runs range |', '| --- | ---: | ---: |']
    lines += [f"| {name} | {_rate(entry['images_per_s'])} | {_spread(entry['runs'])} |"
              for name, entry in decode.items()]
  lines += ['', '| Layout | bytes per image |', '| --- | ---: |']
  lines += [f'| {name} | {value:,} |' for name, value in size['bytes_per_example'].items()]
  return lines + ['']


def markdown(results: Dict[str, object]) -> str:
  protocol = results['protocol']
  machine = results['machine']
  lines = [f"`{results['command']}`: batch {protocol['batch_size']}, median of "
           f"{protocol['rounds']} alternated rounds; {machine['usable_cores']} cores "
           f"({machine['cpu_model']}), load average {machine['load_average_1m_at_start']} at "
           f"the start (a shared machine: runs of one variant can differ by 2x).", '']
  for size in results['sizes']:
    lines += size_table(size)
  lines += ['| Check | Measured | Met |', '| --- | ---: | --- |']
  for check in results['checks']:
    met = {True: 'met', False: 'NOT met', None: 'not measured'}[check['met']]
    ratio = '-' if check['ratio'] is None else f"{check['ratio']:.1f}x ({check['best_sequence']})"
    lines.append(f"| {check['size']} px: {check['target']} | {ratio} | {met} |")
  augmentation = results.get('augmentation')
  if augmentation:
    rates = augmentation['steps_per_s']
    lines += ['', f"Augmentation, small CNN at {augmentation['size']} px, batch "
              f"{augmentation['batch_size']}, {augmentation['timed_steps_per_run']} timed steps "
              f"per run, CPU:", '', '| Where | steps/s (median) | runs range |',
              '| --- | ---: | ---: |']
    for name, rate in rates.items():
      runs = augmentation['runs'][name]
      lines.append(f'| {name} | {rate:.2f} | {min(runs):.2f} - {max(runs):.2f} |')
  lines += ['', f"Wall time {results['wall_seconds']} s."]
  return '\n'.join(lines)
