"""Why the decoders differ: images per second of one thread, per decoder, on the same files
(bench/images.py reports it next to the pipelines). Alternated in rounds; medians.

  tf_decode_only         tf.io.decode_image, nothing else
  tf_decode_and_resize   trainer/images/decode.py decode_and_resize (decode, an antialiased
                         resize to the model's size, even when the image has that size
                         already, round and cast back to uint8): what our pipeline runs
  pil                    bench/image_variants.py pil_image (PIL open and convert to RGB; it
                         resizes only an image of another size)
"""

import statistics
import time
from pathlib import Path
from typing import Callable, Dict, List

import tensorflow as tf

from bench.image_data import CHANNELS, ImageBenchData
from bench.image_variants import pil_image
from trainer.images.decode import decode_and_resize


def _tf_rate(dataset: tf.data.Dataset) -> Callable[[], float]:
  def run() -> float:
    start = time.perf_counter()
    count = sum(1 for _ in dataset)
    return count / (time.perf_counter() - start)
  return run


def _pil_rate(paths, size: int) -> Callable[[], float]:
  def run() -> float:
    start = time.perf_counter()
    for path in paths:
      pil_image(path, size)
    return len(paths) / (time.perf_counter() - start)
  return run


def measure(data: ImageBenchData, rounds: int, images: int = 300) -> Dict[str, Dict[str, object]]:
  """{decoder: {'images_per_s': median, 'runs': [...]}} over the first `images` files."""
  paths = data.paths[:images]
  encoded = tf.data.Dataset.from_tensor_slices(
      tf.constant([Path(p).read_bytes() for p in paths], tf.string)).cache()
  # One thread: the cost of one image, whatever else the machine runs.
  single = tf.data.Options()
  single.threading.private_threadpool_size = 1
  runners = {
      'tf_decode_only': _tf_rate(encoded.map(
          lambda x: tf.io.decode_image(x, channels=CHANNELS, expand_animations=False))
          .with_options(single)),
      'tf_decode_and_resize': _tf_rate(encoded.map(
          lambda x: decode_and_resize(x, data.size, CHANNELS)).with_options(single)),
      'pil': _pil_rate(paths, data.size),
  }
  for run in runners.values():
    run()  # Untimed: traces, fills the cache of encoded bytes.
  runs: Dict[str, List[float]] = {name: [] for name in runners}
  for _ in range(rounds):
    for name, run in runners.items():
      runs[name].append(run())
  return {name: {'images_per_s': statistics.median(rates), 'runs': rates}
          for name, rates in runs.items()}
