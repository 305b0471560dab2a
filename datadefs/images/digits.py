"""The bundled image dataset `digits`, made at run time from scikit-learn's bundled `load_digits`
(1,797 grey 8x8 images of the digits 0-9; nothing is downloaded): each image is upscaled to
size x size RGB, tinted and shifted by a few pixels, and written as PNG or JPEG (alternating),
one folder per class, the layout of Keras' `image_dataset_from_directory`. The same seed always
writes the same files."""

from pathlib import Path
from typing import Dict

import numpy as np
from PIL import Image

CLASSES = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine')


def write_digits(folder: Path, size: int = 64, seed: int = 0) -> Dict[str, int]:
  """Writes the digits under `folder`/<class name>/; returns {class name: images written}."""
  from sklearn.datasets import load_digits  # pylint: disable=import-outside-toplevel
  digits = load_digits()
  rng = np.random.default_rng(seed)
  counts = {name: 0 for name in CLASSES}
  for index, (pixels, target) in enumerate(zip(digits.images, digits.target)):
    name = CLASSES[int(target)]
    grey = Image.fromarray((pixels * (255 / 16)).astype(np.uint8), mode='L')
    grey = grey.resize((size, size), Image.BICUBIC)
    shift = rng.integers(-size // 16, size // 16 + 1, size=2)
    grey = Image.fromarray(np.roll(np.asarray(grey), tuple(shift), axis=(0, 1)))
    tint = rng.uniform(0.5, 1.0, size=3)
    background = rng.uniform(0, 60, size=3)
    value = np.asarray(grey, dtype=np.float32)[..., None] / 255
    rgb = (background * (1 - value) + 255 * tint * value).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(rgb, mode='RGB')
    target_dir = folder / name
    target_dir.mkdir(parents=True, exist_ok=True)
    if index % 2:
      image.save(target_dir / f'{index:04d}.jpg', quality=92)
    else:
      image.save(target_dir / f'{index:04d}.png')
    counts[name] += 1
  return counts
