"""`python -m pipeline dataset init --images DIR --out NAME`: a definition and a curated schema
for a folder with one subfolder per class, for the user to review.

Every image is decoded once (datadefs/images/checks.py). The output names what was found: the
classes and their counts, the formats, the size range, the broken files (each with why) and the
ignored ones. The definition holds each decision with its reason as a comment: the classes
(folders holding images), the model's input size and channels, the augmentation (no flips: a
mirrored letter is a different letter), the model, max_broken_fraction (raised to what the
folder needs, said so) and a blessing threshold measured against the majority class.
"""

import collections
import statistics
from pathlib import Path
from typing import Callable, Optional

from datadefs import tasks
from datadefs.images import checks
from datadefs.images import definition
from datadefs.images import files as image_files
from datadefs.images import schema
from datadefs.images.spec import ImageSpec

DEFAULT_SIZE = 64  # trains in minutes on CPU; the model resizes every image to it
MIN_INIT_SIZE = 32
AUGMENTATION = {'rotation': 0.05, 'zoom': 0.1, 'translation': 0.1, 'contrast': 0.1}


def init_images(images_dir: str, out_dir: str, name: Optional[str] = None,
                say: Callable[[str], None] = print) -> Path:
  """Writes out_dir/dataset.toml and out_dir/schema.pbtxt for the image folder `images_dir`;
  returns the definition's path. ValueError names what makes the folder unusable."""
  out = Path(out_dir)
  if (out / 'dataset.toml').exists():
    raise FileExistsError(f'{out / "dataset.toml"} exists: init writes a new definition; '
                          'choose another --out, or delete it first')
  root = str(Path(images_dir).resolve())
  try:
    listing = image_files.list_images(root)
  except FileNotFoundError as error:
    raise ValueError(str(error)) from None
  results = checks.verify_all(listing)
  good = [(image, verified) for image, verified, _ in results if verified is not None]
  broken = [(image.path, why) for image, verified, why in results if verified is None]
  counts = collections.Counter(image.label for image, _ in good)
  defaults = ImageSpec()
  few = sorted(label for label in {image.label for image in listing.images}
               if counts[label] < defaults.min_images_per_class)
  if not good:
    raise ValueError(f'{root}: no image in class folders (one subfolder per class, holding '
                     f'{", ".join(image_files.IMAGE_SUFFIXES)} files)')
  if few:
    raise ValueError('class folder(s) with fewer than '
                     f'{defaults.min_images_per_class} good images: ' + ', '.join(
                         f'{Path(root) / label} ({counts[label]})' for label in few) +
                     ': add images, or move the folder out')
  if len(counts) < 2:
    raise ValueError(f'{root}: only one class folder ({next(iter(counts))!r}) holds images; a '
                     'classifier needs two or more')
  classes = sorted(counts)
  name = name or _name_of(out)
  lines, toml = _summary_and_toml(root, name, listing, good, broken, classes)
  out.mkdir(parents=True, exist_ok=True)
  (out / 'schema.pbtxt').write_text(schema.schema_text(classes))
  (out / 'dataset.toml').write_text(toml)
  for line in lines:
    say(line)
  import datadefs  # pylint: disable=import-outside-toplevel; checks what was written
  datadefs.load(str(out))
  say(f'wrote {out / "dataset.toml"} and {out / "schema.pbtxt"}; review them, then: '
      f'make run DATASET={out} DATA_ROOT={_shell_word(root)}')
  return out / 'dataset.toml'


def _summary_and_toml(root, name, listing, good, broken, classes):
  counts = collections.Counter(image.label for image, _ in good)
  formats = collections.Counter(verified.format for _, verified in good)
  heights = [verified.height for _, verified in good]
  widths = [verified.width for _, verified in good]
  shorter = statistics.median(min(h, w) for h, w in zip(heights, widths))
  # Smaller images at their own size (rounded down to 8 px), 32 px at least: a CNN's pooling
  # needs room, and upscaling loses nothing.
  size = DEFAULT_SIZE if shorter >= DEFAULT_SIZE else max(MIN_INIT_SIZE, int(shorter) // 8 * 8)
  channels = 1 if all(verified.channels == 1 for _, verified in good) else 3
  total = len(listing.images)
  fraction = ImageSpec().max_broken_fraction
  if len(broken) > fraction * total:
    fraction = min(0.5, round(len(broken) / total + 0.01, 2))
  baseline = tasks.TASKS[definition.TASK].baseline([image.label for image, _ in good])
  lines = [f'{len(good)} images in {len(classes)} classes under {root}:']
  width = max(len(label) for label in classes)
  lines += [f'  {label:<{width}}  {counts[label]}' for label in classes]
  lines.append('formats: ' + ', '.join(f'{kind} {count}' for kind, count in
                                       sorted(formats.items())))
  lines.append(f'sizes: {min(widths)}x{min(heights)} to {max(widths)}x{max(heights)} pixels '
               f'(width x height); median shorter side {shorter:g}')
  if broken:
    lines.append(f'broken: {len(broken)} of {total} image files, left out of every run (at '
                 f'most max_broken_fraction = {fraction} may be):')
    lines += [f'  {path}: {why}' for path, why in broken]
  if listing.ignored:
    lines.append(f'ignored: {len(listing.ignored)} files that are not images of a class '
                 '(hidden files, clutter, files beside the class folders):')
    lines += [f'  {path}' for path in listing.ignored]
  lines.append(f'blessing threshold: {baseline.threshold:.4g}, against {baseline.text}')
  toml = [
      f'# Dataset definition written by `python -m pipeline dataset init --images {root}`',
      f'# ({len(good)} images in {len(classes)} class folders). Review it.',
      f'name = "{name}"', 'kind = "image"', f'task = "{definition.TASK}"',
      'schema = "schema.pbtxt"', 'model = "small_cnn"  # or "mobilenet_v3_small"',
      f'# Naive baseline: {baseline.text}.',
      f'blessing_threshold = {baseline.threshold:.6g}', '', '[label]',
      '# The class folders holding images, in id order; a folder not listed is refused.',
      'classes = [' + ', '.join(_quoted(label) for label in classes) + ']', '', '[image]',
      f'# Every image is resized to size x size; the median shorter side is {shorter:g} px.',
      f'size = {size}',
      f'channels = {channels}  # ' + ('every image is grey' if channels == 1 else
                                     'RGB (grey images are repeated into 3 channels)'),
      f'max_broken_fraction = {fraction}' + (
          f'  # raised from {ImageSpec().max_broken_fraction}: {len(broken)} of {total} files '
          'are broken' if fraction != ImageSpec().max_broken_fraction else ''),
      f'min_images_per_class = {ImageSpec().min_images_per_class}', '',
      '# Keras random layers at the front of the model, active only in training. Flips are off:',
      '# turn them on only when a mirrored image is the same class (a mirrored letter is not).',
      '[image.augmentation]',
      *(f'{key} = {value}' for key, value in AUGMENTATION.items()),
      'horizontal_flip = false', 'vertical_flip = false']
  return lines, '\n'.join(toml) + '\n'


def _name_of(out: Path) -> str:
  name = ''.join(c if c.isalnum() else '-' for c in out.resolve().name.lower()).strip('-')
  return name or 'images'


def _quoted(text: str) -> str:
  return '"' + text.replace('\\', '\\\\').replace('"', '\\"') + '"'


def _shell_word(text: str) -> str:
  return text if all(c.isalnum() or c in '/._-+' for c in text) else "'" + text.replace(
      "'", "'\\''") + "'"

