"""`make bench-images`: images per second of the image input pipelines on the bundled digits, at
64 px and at 224 px, and where augmentation runs (host tf.data map vs Keras layers in the model).

  python -m bench.images [--sizes 64,224] [--limits 0,600] [--rounds R] [--batch-size B]
                         [--variants a,b] [--skip-augmentation] [--augment-steps S]
                         [--output DIR] [--data-dir DIR]

Every variant runs once per round, rounds alternating (bench/image_measure.py); the figures are
medians over rounds. Writes DIR/images.json and DIR/images.md, prints progress on stderr and the
Markdown tables on stdout. The exit status is 1 only when a variant could not be measured.
"""

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

# The edge: quieter TensorFlow C++ logs, set before anything imports TensorFlow.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import logging  # pylint: disable=wrong-import-position
import tensorflow as tf  # pylint: disable=wrong-import-position

from bench import image_augment  # pylint: disable=wrong-import-position
from bench import image_data  # pylint: disable=wrong-import-position
from bench import image_decode_cost  # pylint: disable=wrong-import-position
from bench import image_measure  # pylint: disable=wrong-import-position
from bench import image_report  # pylint: disable=wrong-import-position
from bench import image_variants as variants_lib  # pylint: disable=wrong-import-position
from bench import report, write_results  # pylint: disable=wrong-import-position
from bench.data import DEFAULT_DATA_DIR  # pylint: disable=wrong-import-position

_REPO_ROOT = Path(__file__).resolve().parents[1]
_DEFAULT_OUTPUT = _REPO_ROOT / 'bench' / 'results'
# 224 px: a seeded subset keeps the whole benchmark within ~10 minutes on 2 cores.
DEFAULT_SIZES = (64, 224)
DEFAULT_LIMITS = (0, 600)
_VARIANT_ERRORS = (TypeError, ValueError, RuntimeError, OSError, tf.errors.OpError)


def _int_list(text: str) -> List[int]:
  try:
    values = [int(part) for part in text.split(',') if part.strip()]
  except ValueError:
    raise argparse.ArgumentTypeError(f'expected comma-separated integers, got {text!r}') from None
  if not values or min(values) < 0:
    raise argparse.ArgumentTypeError(f'expected integers >= 0, got {text!r}')
  return values


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
  defaults = image_measure.Protocol()
  parser = argparse.ArgumentParser(prog='python -m bench.images',
                                   description=__doc__.split('\n\n', maxsplit=1)[0])
  parser.add_argument('--sizes', type=_int_list, default=list(DEFAULT_SIZES),
                      help='image sizes in px (the digits are written at each size)')
  parser.add_argument('--limits', type=_int_list, default=list(DEFAULT_LIMITS),
                      help='per size: images used (a seeded subset of the 1,797; 0: all)')
  parser.add_argument('--rounds', type=int, default=defaults.rounds)
  parser.add_argument('--batch-size', type=int, default=defaults.batch_size)
  parser.add_argument('--memory-passes', type=int, default=defaults.memory_passes,
                      help='passes timed per run when reading from memory')
  parser.add_argument('--variants', default=','.join(v.name for v in variants_lib.VARIANTS))
  parser.add_argument('--skip-augmentation', action='store_true')
  parser.add_argument('--augment-steps', type=int,
                      default=image_augment.AugmentProtocol().timed_steps)
  parser.add_argument('--output', default=str(_DEFAULT_OUTPUT), help='folder for the results')
  parser.add_argument('--data-dir', default=DEFAULT_DATA_DIR,
                      help='cache folder of the generated images and records')
  args = parser.parse_args(argv)
  if min(args.sizes) < 1:
    parser.error(f'--sizes must be >= 1 px, got {args.sizes}')
  if len(args.limits) != len(args.sizes):
    parser.error(f'--limits needs one value per size: {len(args.sizes)} sizes '
                 f'{args.sizes}, {len(args.limits)} limits {args.limits}')
  try:
    args.variants = variants_lib.by_name([n.strip() for n in args.variants.split(',')
                                          if n.strip()])
    args.protocol = image_measure.Protocol(batch_size=args.batch_size, rounds=args.rounds,
                                           memory_passes=args.memory_passes)
    args.augment = image_augment.AugmentProtocol(rounds=args.rounds,
                                                 timed_steps=args.augment_steps)
  except ValueError as error:
    parser.error(str(error))
  return args


def _log(message: str) -> None:
  print(message, file=sys.stderr, flush=True)


def measure_size(args, size: int, limit: int) -> Dict[str, object]:
  """One size: its data (made or reused), bytes per example and every variant's rates."""
  start = time.perf_counter()
  data = image_data.ensure_data(args.data_dir, size, limit)
  _log(f'{size}px: {data.images} images ready in {time.perf_counter() - start:.1f}s')
  result: Dict[str, object] = {
      'size': size, 'images': data.images, 'subset': data.is_subset,
      'bytes_per_example': data.bytes_per_example(),
      'passes': {'batches_per_pass': image_measure.batches_per_pass(data, args.protocol)},
  }
  try:
    result['variants'] = image_measure.alternate(args.variants, data, args.protocol, _log)
    result['decode_one_thread'] = image_decode_cost.measure(data, args.protocol.rounds)
    _log(f'  {size}px one-thread decode: ' + ', '.join(
        f"{name} {entry['images_per_s']:,.0f}"
        for name, entry in result['decode_one_thread'].items()))
  except _VARIANT_ERRORS as error:
    result['error'] = f'{type(error).__name__}: {error}'
    _log(f'{size}px failed: {result["error"]}')
  return result


def main(argv: Optional[List[str]] = None) -> int:
  args = parse_args(argv)
  # The trainer warns at every make that one file is read (the benchmark's layouts are one
  # file each, as the point is decoding, not shard parallelism).
  logging.set_verbosity(logging.ERROR)
  start = time.perf_counter()
  machine = report.machine_info()
  sizes = [measure_size(args, size, limit) for size, limit in zip(args.sizes, args.limits)]
  augmentation = None
  if not args.skip_augmentation:
    data = image_data.ensure_data(args.data_dir, args.sizes[0], args.limits[0])
    images, labels = data.preload()
    augmentation = image_augment.measure(images, labels, data.size, args.augment, _log)
  results = {
      'machine': machine,
      'command': 'make bench-images' if argv is None and len(sys.argv) == 1 else
                 'python -m bench.images ' + ' '.join(sys.argv[1:] if argv is None else argv),
      'protocol': {'batch_size': args.protocol.batch_size, 'rounds': args.protocol.rounds,
                   'passes': args.protocol.passes,
                   'memory_passes': args.protocol.memory_passes},
      'sizes': sizes,
      'augmentation': augmentation,
      'checks': image_report.checks(sizes),
      'wall_seconds': round(time.perf_counter() - start, 1),
  }
  output = Path(args.output)
  write_results(output / 'images.json', results)
  table = image_report.markdown(results)
  (output / 'images.md').write_text(table + '\n')
  print(table)
  _log(f"wrote {output / 'images.json'} and images.md in {results['wall_seconds']}s")
  return 1 if any('error' in size for size in sizes) else 0


if __name__ == '__main__':
  sys.exit(main())
