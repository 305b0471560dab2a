"""Image folders for tests, made with PIL: class folders of small images of every format the
image kind reads, and the broken files and clutter a real folder has."""

import io
from pathlib import Path
from typing import Dict, Iterable

import numpy as np
from PIL import Image


def pixels(seed: int, height: int = 12, width: int = 16, low: int = 0,
           high: int = 256) -> np.ndarray:
  return np.random.default_rng(seed).integers(low, high, (height, width, 3), dtype=np.uint8)


def encoded(seed: int, kind: str = 'png', height: int = 12, width: int = 16, low: int = 0,
            high: int = 256) -> bytes:
  """One image's bytes: kind 'jpeg', 'png', 'png_grey', 'png_rgba', 'png_palette', 'png16',
  'bmp', 'gif' (two frames); pixel values in [low, high)."""
  rgb = pixels(seed, height, width, low, high)
  out = io.BytesIO()
  if kind == 'jpeg':
    Image.fromarray(rgb).save(out, 'JPEG')
  elif kind == 'png':
    Image.fromarray(rgb).save(out, 'PNG')
  elif kind == 'png_grey':
    Image.fromarray(rgb[..., 0]).save(out, 'PNG')
  elif kind == 'png_rgba':
    Image.fromarray(np.dstack([rgb, rgb[..., :1]])).save(out, 'PNG')
  elif kind == 'png_palette':
    Image.fromarray(rgb).convert('P').save(out, 'PNG')
  elif kind == 'png16':
    Image.fromarray(rgb[..., 0].astype(np.uint16) * 257).save(out, 'PNG')
  elif kind == 'bmp':
    Image.fromarray(rgb).save(out, 'BMP')
  elif kind == 'gif':
    frames = [Image.fromarray(rgb).convert('P'), Image.fromarray(255 - rgb).convert('P')]
    frames[0].save(out, 'GIF', save_all=True, append_images=frames[1:])
  else:
    raise ValueError(kind)
  return out.getvalue()


SUFFIX = {'jpeg': '.JPG', 'png': '.png', 'png_grey': '.png', 'png_rgba': '.png',
          'png_palette': '.png', 'png16': '.png', 'bmp': '.bmp', 'gif': '.gif'}


def write_folder(root: Path, counts: Dict[str, int],
                 kinds: Iterable[str] = ('png', 'jpeg')) -> Dict[str, Path]:
  """Class folders under `root`, counts[name] images each, formats taken in turn; returns
  {class: folder}."""
  kinds = list(kinds)
  folders = {}
  seed = 0
  for name, count in counts.items():
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
      kind = kinds[seed % len(kinds)]
      (folder / f'img{index:03d}{SUFFIX[kind]}').write_bytes(encoded(seed, kind))
      seed += 1
    folders[name] = folder
  return folders


def add_broken(folder: Path) -> Dict[str, Path]:
  """A truncated JPEG, an empty file and text named .png in `folder`."""
  whole = encoded(999, 'jpeg')
  files = {'truncated': folder / 'truncated.jpg', 'empty': folder / 'empty.png',
           'text': folder / 'text.png'}
  files['truncated'].write_bytes(whole[:len(whole) // 2])
  files['empty'].write_bytes(b'')
  files['text'].write_text('not an image at all')
  return files


def add_clutter(root: Path, folder: Path) -> Dict[str, Path]:
  files = {'ds_store': folder / '.DS_Store', 'thumbs': folder / 'Thumbs.db',
           'notes': folder / 'notes.txt', 'readme': root / 'README.md'}
  for path in files.values():
    path.write_text('clutter')
  return files
