"""One decode-and-resize, shared by the training input (trainer/images/decoder.py) and the
serving signatures (trainer/images/serving.py), so training and serving see the same pixels.

Pixels stay uint8 (0-255) until inside the model: a decoded 64 px RGB image is 12 KiB as uint8
and 48 KiB as float32, and what is cached is the smaller.
"""

import tensorflow as tf

# Images decoded at once within one batch (tf.map_fn's parallel_iterations).
PARALLEL_DECODES = 16


def decode_and_resize(encoded: tf.Tensor, size: int, channels: int) -> tf.Tensor:
  """One encoded image (JPEG, PNG, BMP or GIF: its first frame) -> uint8 [size, size, channels].

  tf.io.decode_image converts grey, RGBA and palette images to `channels` and 16-bit PNGs to
  8 bits. The resize is antialiased (a downscale averages, not skips, pixels), then rounded
  back to uint8. Bytes that are no image raise InvalidArgumentError naming the problem.
  """
  image = tf.io.decode_image(encoded, channels=channels, dtype=tf.uint8,
                             expand_animations=False)
  image = tf.ensure_shape(image, [None, None, channels])

  def resize():
    resized = tf.image.resize(image, [size, size], antialias=True)
    return tf.cast(tf.round(tf.clip_by_value(resized, 0.0, 255.0)), tf.uint8)

  # An image already at the size is kept as decoded: the resize would be about two thirds of
  # the decode's cost (docs/images.md) and change nothing.
  shape = tf.shape(image)
  # (The shape is said after the cond: said inside its branch, graph mode checks it on every
  # image.)
  kept_or_resized = tf.cond(tf.logical_and(shape[0] == size, shape[1] == size),
                            lambda: image, resize)
  return tf.ensure_shape(kept_or_resized, [size, size, channels])


def decode_batch(encoded: tf.Tensor, size: int, channels: int) -> tf.Tensor:
  """A batch [N] of encoded images -> uint8 [N, size, size, channels], decoded in parallel."""
  return tf.map_fn(
      lambda one: decode_and_resize(one, size, channels), encoded,
      fn_output_signature=tf.TensorSpec([size, size, channels], tf.uint8),
      parallel_iterations=PARALLEL_DECODES)
