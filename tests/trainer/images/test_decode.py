"""trainer/images/decode.py: every accepted format decodes to uint8 [size, size, channels]."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from trainer.images.decode import decode_and_resize, decode_batch


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
  buffer = io.BytesIO()
  image.save(buffer, format=fmt, **options)
  return buffer.getvalue()


_COLOUR = (200, 40, 90)


def _rgb(width=40, height=30):
  return Image.new('RGB', (width, height), _COLOUR)


@pytest.mark.parametrize('encoded', [
    _encode(_rgb(), 'PNG'),
    _encode(_rgb(), 'BMP'),
    _encode(_rgb().convert('RGBA'), 'PNG'),
    _encode(_rgb().convert('P'), 'PNG'),
    _encode(_rgb(), 'GIF'),
], ids=['png', 'bmp', 'rgba-png', 'palette-png', 'gif'])
def test_a_flat_colour_stays_that_colour_at_any_size(encoded):
  for size in (8, 64):
    pixels = decode_and_resize(tf.constant(encoded), size, 3).numpy()
    assert pixels.dtype == np.uint8 and pixels.shape == (size, size, 3)
    # A GIF's palette may move a colour by a step or two.
    np.testing.assert_allclose(pixels.reshape(-1, 3).mean(axis=0), _COLOUR, atol=3)


def test_jpeg_grey_and_16_bit_images_take_the_asked_channels():
  jpeg = _encode(_rgb(), 'JPEG', quality=95)
  grey = _encode(Image.new('L', (20, 20), 128), 'PNG')
  sixteen = _encode(Image.fromarray(np.full((20, 20), 65535, np.uint16)), 'PNG')
  assert decode_and_resize(tf.constant(jpeg), 16, 1).shape == (16, 16, 1)
  np.testing.assert_array_equal(decode_and_resize(tf.constant(grey), 16, 3).numpy(), 128)
  # 16-bit white is 8-bit white.
  np.testing.assert_array_equal(decode_and_resize(tf.constant(sixteen), 16, 1).numpy(), 255)


def test_an_animated_gif_gives_its_first_frame():
  frames = [Image.new('RGB', (10, 10), colour) for colour in ((255, 0, 0), (0, 0, 255))]
  buffer = io.BytesIO()
  frames[0].save(buffer, format='GIF', save_all=True, append_images=frames[1:])
  pixels = decode_and_resize(tf.constant(buffer.getvalue()), 10, 3).numpy()
  assert pixels[..., 0].min() > 200 and pixels[..., 2].max() < 50


def test_downscaling_averages_pixels():
  # A one-pixel checkerboard: antialiased, it is grey; sampled, it would stay black or white.
  board = (np.indices((64, 64)).sum(axis=0) % 2 * 255).astype(np.uint8)
  pixels = decode_and_resize(tf.constant(_encode(Image.fromarray(board), 'PNG')), 8, 1).numpy()
  assert 100 < pixels.min() and pixels.max() < 155


@pytest.mark.parametrize('encoded', [b'', b'not an image at all', _encode(_rgb(), 'PNG')[:40]],
                         ids=['empty', 'text', 'truncated-png'])
def test_corrupt_bytes_raise_an_invalid_argument_error(encoded):
  with pytest.raises(tf.errors.InvalidArgumentError):
    decode_and_resize(tf.constant(encoded), 8, 3)


def test_a_batch_decodes_like_each_image():
  images = [_encode(Image.fromarray(np.random.default_rng(seed).integers(
      0, 256, (30 + seed, 20, 3), dtype=np.uint8)), 'PNG') for seed in range(5)]
  batch = decode_batch(tf.constant(images), 12, 3).numpy()
  for encoded, pixels in zip(images, batch):
    np.testing.assert_array_equal(pixels, decode_and_resize(tf.constant(encoded), 12, 3).numpy())


def test_an_image_at_the_size_keeps_its_decoded_pixels_and_a_batch_mixes_both():
  noise = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
  at_size = _encode(Image.fromarray(noise), 'PNG')
  assert np.array_equal(decode_and_resize(tf.constant(at_size), 16, 3).numpy(), noise)
  larger = _encode(Image.fromarray(noise).resize((32, 32), Image.NEAREST), 'PNG')
  batch = decode_batch(tf.constant([at_size, larger]), 16, 3).numpy()
  assert np.array_equal(batch[0], noise)
  assert np.array_equal(batch[1], decode_and_resize(tf.constant(larger), 16, 3).numpy())


def test_in_a_graph_images_of_other_sizes_are_resized_beside_ones_at_the_size():
  noise = np.random.default_rng(1).integers(0, 256, (24, 32, 3), dtype=np.uint8)
  other = _encode(Image.fromarray(noise), 'PNG')
  at_size = _encode(Image.fromarray(noise[:16, :16]), 'PNG')
  in_graph = tf.function(lambda encoded: decode_batch(encoded, 16, 3))
  batch = in_graph(tf.constant([other, at_size])).numpy()
  assert np.array_equal(batch[0], decode_and_resize(tf.constant(other), 16, 3).numpy())
  assert np.array_equal(batch[1], noise[:16, :16])
