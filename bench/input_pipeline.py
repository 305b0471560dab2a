"""`make bench`: throughput of the trainer's input pipeline against TFX's stock reader, Python
readers and an in-memory ceiling, on the same transformed taxi data, model and batch size.

  python -m bench.input_pipeline [--examples N] [--repeats R] [--batch-size B]
                                 [--variants a,b] [--output DIR] [--data-dir DIR]
                                 [--warmup-batches W] [--timed-batches T]
                                 [--python-timed-batches P]
                                 [--paired-rounds N] [--paired-window-steps S]
                                 [--paired-lead-steps L]

Writes DIR/input_pipeline.json and DIR/input_pipeline.png, prints progress on stderr and the
Markdown results table (with the targets check) on stdout. Missed targets are reported, not
failures; the exit status is 1 only when a variant could not be measured.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import List, Optional

# The edge: quieter TensorFlow C++ logs, set before anything imports TensorFlow.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import tensorflow as tf  # pylint: disable=wrong-import-position

from bench import data as data_lib  # pylint: disable=wrong-import-position
from bench import measure as measure_lib  # pylint: disable=wrong-import-position
from bench import paired_fit  # pylint: disable=wrong-import-position
from bench import plot as plot_lib  # pylint: disable=wrong-import-position
from bench import report  # pylint: disable=wrong-import-position
from bench import variants as variants_lib  # pylint: disable=wrong-import-position

_REPO_ROOT = Path(__file__).resolve().parents[1]
_DEFAULT_OUTPUT = str(_REPO_ROOT / 'bench' / 'results')
# Errors a variant may raise that should not stop the others from being measured.
_VARIANT_ERRORS = (TypeError, ValueError, RuntimeError, IndexError, tf.errors.OpError)


def _positive_int(text: str) -> int:
  value = int(text.replace('_', ''))
  if value < 1:
    raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
  return value


def _non_negative_int(text: str) -> int:
  value = int(text.replace('_', ''))
  if value < 0:
    raise argparse.ArgumentTypeError(f'must be >= 0, got {value}')
  return value


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
  defaults = measure_lib.MeasureConfig()
  paired_defaults = paired_fit.PairedConfig()
  parser = argparse.ArgumentParser(prog='python -m bench.input_pipeline',
                                   description=__doc__.split('\n\n')[0])
  parser.add_argument('--examples', type=_positive_int,
                      default=data_lib.DataConfig().examples)
  parser.add_argument('--repeats', type=_positive_int, default=defaults.repeats)
  parser.add_argument('--batch-size', type=_positive_int, default=defaults.batch_size)
  parser.add_argument('--variants', default=','.join(v.name for v in variants_lib.VARIANTS),
                      help='comma-separated names; keras_sequence means both worker settings')
  parser.add_argument('--output', default=_DEFAULT_OUTPUT, help='folder for the results')
  parser.add_argument('--data-dir', default=data_lib.DEFAULT_DATA_DIR,
                      help='cache folder of the generated data')
  parser.add_argument('--warmup-batches', type=_positive_int, default=defaults.warmup_batches)
  parser.add_argument('--timed-batches', type=_positive_int, default=defaults.timed_batches,
                      help='per repeat: input-only batches and fit steps (tf.data variants)')
  parser.add_argument('--python-timed-batches', type=_positive_int,
                      default=defaults.python_timed_batches,
                      help='the same for the variants that parse in Python')
  parser.add_argument('--paired-rounds', type=_non_negative_int,
                      default=paired_defaults.rounds,
                      help='rounds of alternating fit windows, ceiling against each of our '
                           'variants (0: none)')
  parser.add_argument('--paired-window-steps', type=_positive_int,
                      default=paired_defaults.window_steps, help='training steps per window')
  parser.add_argument('--paired-lead-steps', type=_positive_int,
                      default=paired_defaults.lead_steps,
                      help='untimed steps before each window (drain prefetch buffers)')
  args = parser.parse_args(argv)
  try:
    args.variants = variants_lib.by_name(name.strip() for name in args.variants.split(',')
                                         if name.strip())
  except ValueError as error:
    parser.error(str(error))
  return args


def _display_path(path: str) -> str:
  """`path` relative to the checkout when inside it: results carry no machine's home."""
  resolved = Path(path).resolve()
  return str(resolved.relative_to(_REPO_ROOT) if resolved.is_relative_to(_REPO_ROOT) else resolved)


def _log(message: str) -> None:
  print(message, file=sys.stderr, flush=True)


def _notes(data: data_lib.BenchData, variants, measurements) -> List[str]:
  notes = []
  if 'tfx_default' in measurements:
    reshaped = variants_lib.needs_squeeze(variants_lib.tfx_dataset(data, 1))
    notes.append('tfx_default: TFXIO yields features of shape '
                 + ('[B, 1], squeezed to [B] by a map for the model' if reshaped
                    else '[B] (no reshape needed)') + '.')
  if 'tuned' in measurements and not measurements['tuned'].caches:
    notes.append('tuned did NOT cache: the data does not fit its cache budget, so the '
                 '"tuned >= 3x tfx_default" target is outside its premise.')
  if any(v.python_reader for v in variants):
    notes.append('Python-reader variants are timed on a bounded number of batches per repeat '
                 '(see "repeats").')
  if any(m.caches for m in measurements.values()):
    notes.append('Caching variants are timed after one full pass (cache complete; fit reuses '
                 'it); that pass is reported under "first_pass_input_ex_per_s".')
  return notes


def _paired(args, data: data_lib.BenchData,
            measurements) -> Optional[paired_fit.PairedResult]:
  """The ceiling against each of our measured variants whose input keeps up with training, in
  alternating windows, when the ceiling ran too."""
  if not args.paired_rounds or paired_fit.CEILING not in measurements:
    return None
  ceiling_fit = measurements[paired_fit.CEILING].fit_ex_per_s
  ours = [name for name, m in measurements.items()
          if name.startswith(report.TUNED) and paired_fit.keeps_up(m.input_ex_per_s, ceiling_fit)]
  if not ours:
    return None
  _log(f"paired fit: {paired_fit.CEILING} against {', '.join(ours)}, "
       f'{args.paired_rounds} rounds of {args.paired_window_steps} steps ...')
  result = paired_fit.measure(ours, data, paired_fit.PairedConfig(
      batch_size=args.batch_size, rounds=args.paired_rounds,
      window_steps=args.paired_window_steps, lead_steps=args.paired_lead_steps))
  for name in ours:
    _log(f'paired fit: {name} {result.median_ratio(name):.2f}x the ceiling (median)')
  return result


def main(argv: Optional[List[str]] = None) -> int:
  args = parse_args(argv)
  started = time.perf_counter()
  data_config = data_lib.DataConfig(examples=args.examples)
  _log(f'data: {args.examples:,} examples under {args.data_dir} ...')
  data = data_lib.ensure_data(data_config, args.data_dir)
  _log(f"data: {'made' if data.generated_now else 'reused'} {data.root} "
       f'(generation took {data.generation_seconds:.1f}s)')
  if data.examples // args.batch_size < 1:
    raise SystemExit(f'--batch-size {args.batch_size} exceeds --examples {data.examples}')
  config = measure_lib.MeasureConfig(
      batch_size=args.batch_size, repeats=args.repeats, warmup_batches=args.warmup_batches,
      timed_batches=args.timed_batches, python_timed_batches=args.python_timed_batches)

  measurements, errors, seconds = {}, {}, {}
  for variant in args.variants:
    _log(f'{variant.name}: {variant.description} ...')
    variant_start = time.perf_counter()
    try:
      measurement = measure_lib.measure(variant, data, config)
    except _VARIANT_ERRORS as error:
      errors[variant.name] = f'{type(error).__name__}: {error}'
      _log(f'{variant.name}: FAILED {errors[variant.name]}')
      continue
    seconds[variant.name] = round(time.perf_counter() - variant_start, 1)
    measurements[variant.name] = measurement
    _log(f'{variant.name}: input-only {measurement.input_ex_per_s:,.0f} ex/s, '
         f'fit {measurement.fit_ex_per_s:,.0f} ex/s ({seconds[variant.name]}s)')

  paired = _paired(args, data, measurements)
  extra = {
      'paired_fit': paired.to_json() if paired else {},
      'protocol': {
          'repeats': config.repeats,
          'warmup_batches': config.warmup_batches,
          'timed_batches': config.timed_batches,
          'python_timed_batches': config.python_timed_batches,
          'model': 'trainer.model.build_keras_model(taxi, ModelConfig()), same seed per variant',
          'input_only': 'batches pulled in one tf.function (tf.data) or from the Keras '
                        'enqueuer (Sequence), after warm-up; examples/s per repeat',
          'fit': 'one model.fit; step end times from a callback; warm-up steps excluded',
          'paired_fit': {'rounds': args.paired_rounds,
                         'window_steps': args.paired_window_steps,
                         'lead_steps': args.paired_lead_steps,
                         'how': 'each variant keeps a live model and iterator; windows of '
                                'Keras train-function steps rotate between the ceiling and '
                                'the variants; ratio to the same round\'s ceiling window, '
                                'median over rounds'},
      },
      'descriptions': {v.name: v.description for v in args.variants},
      'data': {'key': data.key, 'root': _display_path(data.root), 'shards': len(data.files),
               'compressed_bytes': sum(os.path.getsize(path) for path in data.files),
               'generation_seconds': round(data.generation_seconds, 1),
               'generated_this_run': data.generated_now},
      'variant_seconds': seconds,
      'errors': errors,
      'notes': _notes(data, args.variants, measurements),
  }
  results = report.build(report.machine_info(), data.examples, args.batch_size, measurements,
                         extra)
  results['wall_seconds'] = round(time.perf_counter() - started, 1)

  output = Path(args.output)
  output.mkdir(parents=True, exist_ok=True)
  (output / 'input_pipeline.json').write_text(json.dumps(results, indent=2) + '\n')
  if results['variants']:
    plot_lib.plot(results, str(output / 'input_pipeline.png'))
  print(report.markdown(results))
  _log(f"wrote {output / 'input_pipeline.json'} and input_pipeline.png "
       f"in {results['wall_seconds']}s (data generation {data.generation_seconds:.1f}s"
       f"{'' if data.generated_now else ', reused from an earlier run'})")
  return 1 if errors else 0


if __name__ == '__main__':
  sys.exit(main())
