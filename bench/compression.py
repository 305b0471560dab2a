"""GZIP vs uncompressed TFRecord shards of the transformed taxi data: size on disk and read
throughput (read, batch, parse_example: what the trainer's input pipeline does per epoch
without the cache). The data is `make bench`'s, made once and reused.

  python -m bench.compression [--examples N] [--repeats R]    (writes bench/results/compression.json)
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import tensorflow as tf  # pylint: disable=wrong-import-position

import bench  # pylint: disable=wrong-import-position
from bench import data as data_lib  # pylint: disable=wrong-import-position
from bench import report  # pylint: disable=wrong-import-position

_RESULTS = Path(__file__).resolve().parent / 'results' / 'compression.json'
_BATCH = 256


def write_uncompressed(gzip_files, out_dir: Path):
  """The same records, shard for shard, without compression (made once)."""
  out_dir.mkdir(parents=True, exist_ok=True)
  paths = []
  for path in gzip_files:
    target = out_dir / Path(path).name.replace('.gz', '')
    if not target.exists():
      with tf.io.TFRecordWriter(str(target) + '.tmp') as writer:
        for record in tf.data.TFRecordDataset(path, compression_type='GZIP'):
          writer.write(record.numpy())
      os.replace(str(target) + '.tmp', target)
    paths.append(str(target))
  return paths


def read_rate(files, compression: str, feature_spec, repeats: int) -> float:
  """Median examples/s of one full pass: interleaved read, batch, vectorized parse."""
  dataset = tf.data.Dataset.from_tensor_slices(files).interleave(
      lambda path: tf.data.TFRecordDataset(path, compression_type=compression),
      cycle_length=4, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
  dataset = dataset.batch(_BATCH).map(lambda records: tf.io.parse_example(records, feature_spec),
                                      num_parallel_calls=tf.data.AUTOTUNE).prefetch(
                                          tf.data.AUTOTUNE)
  rates = []
  for _ in range(repeats):
    start, examples = time.perf_counter(), 0
    for batch in dataset:
      examples += int(tf.shape(next(iter(batch.values())))[0])
    rates.append(examples / (time.perf_counter() - start))
  return statistics.median(rates)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument('--examples', type=int, default=1_000_000)
  parser.add_argument('--repeats', type=int, default=3)
  args = parser.parse_args(argv)
  bench_data = data_lib.ensure_data(data_lib.DataConfig(examples=args.examples))
  plain = write_uncompressed(bench_data.files, Path(bench_data.root) / 'uncompressed')
  spec = bench_data.feature_spec()
  rows = {}
  for name, files, compression in (('gzip', bench_data.files, 'GZIP'), ('none', plain, '')):
    rows[name] = {
        'bytes': sum(os.path.getsize(f) for f in files),
        'read_ex_per_s': round(read_rate(list(files), compression, spec, args.repeats)),
    }
  result = {'machine': report.machine_info(), 'examples': bench_data.examples,
            'shards': len(bench_data.files), 'batch_size': _BATCH, 'formats': rows}
  bench.write_results(_RESULTS, result)
  print('| shards | size (MB) | read + parse (examples/s) |\n| --- | ---: | ---: |')
  for name, row in rows.items():
    print(f"| {name} | {row['bytes'] / 1e6:,.1f} | {row['read_ex_per_s']:,} |")
  return 0


if __name__ == '__main__':
  sys.exit(main())
