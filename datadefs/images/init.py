"""`python -m pipeline dataset init --images DIR --out NAME`: a definition and a curated schema
for a folder with one subfolder per class, for the user to review; `--manifest FILE.csv` the same
for the images a CSV in Vertex AI's import format lists (datadefs/images/manifest.py).

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
from typing import Callable, NamedTuple, Optional, Sequence

from datadefs import baseline_scores
from datadefs import tasks
from datadefs.images import checks
from datadefs.images import definition
from datadefs.images import files as image_files
from datadefs.images import manifest as image_manifest
from datadefs.images import schema
from datadefs.images.spec import RAW_CONTENT_HASH, ImageSpec
from datadefs.tabular import splits
from datadefs.task_values import BaselineScores

DEFAULT_SIZE = 64  # trains in minutes on CPU; the model resizes every image to it
MIN_INIT_SIZE = 32
AUGMENTATION = {'rotation': 0.05, 'zoom': 0.1, 'translation': 0.1, 'contrast': 0.1}


def init_images(images_dir: str, out_dir: str, name: Optional[str] = None,
                say: Callable[[str], None] = print) -> Path:
  """Writes out_dir/dataset.toml and out_dir/schema.pbtxt for the image folder `images_dir`;
  returns the definition's path. ValueError names what makes the folder unusable."""
  _refuse_existing(Path(out_dir))
  root = str(Path(images_dir).resolve())
  try:
    listing = image_files.list_images(root)
  except FileNotFoundError as error:
    raise ValueError(str(error)) from None
  return _write(_Source(root, root, f'--images {root}', f'{len(listing.counts())} class '
                        'folders'), listing, out_dir, name, say)


def init_manifest(manifest_file: str, out_dir: str, name: Optional[str] = None,
                  say: Callable[[str], None] = print) -> Path:
  """Writes out_dir/dataset.toml (with `manifest` in [image]) and out_dir/schema.pbtxt for the
  images a CSV manifest in Vertex AI's import format lists (datadefs/images/manifest.py); the
  data root of a run is the manifest's folder. ValueError names the bad lines or files."""
  _refuse_existing(Path(out_dir))
  path = Path(manifest_file).resolve()
  try:
    read = image_manifest.read_manifest(str(path), cloud_paths=False)
  except FileNotFoundError as error:
    raise ValueError(str(error)) from None
  uses = ', '.join(f'{read.ml_use[use]} {use}' for use in image_manifest.ML_USES
                   if use in read.ml_use)
  notes = [f'ML_USE: {uses}; read, not followed: every run splits the images by the hash of '
           'their content, so a duplicate image cannot be in both train and eval'] if uses else []
  return _write(_Source(str(path.parent), str(path), f'--manifest {path}', f'rows of {path.name}',
                        manifest=path.name, notes=notes), read.listing, out_dir, name, say)


class _Source(NamedTuple):
  data_root: str  # what DATA_ROOT is for a run
  where: str  # what the images are under, as said
  command: str  # the init command's arguments
  what: str  # where the images came from, in the definition's header
  manifest: str = ''
  notes: Sequence[str] = ()


def _refuse_existing(out: Path) -> None:
  if (out / 'dataset.toml').exists():
    raise FileExistsError(f'{out / "dataset.toml"} exists: init writes a new definition; '
                          'choose another --out, or delete it first')


def _write(source: _Source, listing: image_files.Listing, out_dir: str, name: Optional[str],
           say: Callable[[str], None]) -> Path:
  out = Path(out_dir)
  results = checks.verify_all(listing)
  good = [(image, verified) for image, verified, _ in results if verified is not None]
  broken = [(image.path, why) for image, verified, why in results if verified is None]
  counts = collections.Counter(image.label for image, _ in good)
  defaults = ImageSpec()
  few = sorted(label for label in {image.label for image in listing.images}
               if counts[label] < defaults.min_images_per_class)
  if not good:
    raise ValueError(f'{source.where}: no image in class folders (one subfolder per class, '
                     f'holding {", ".join(image_files.IMAGE_SUFFIXES)} files)'
                     if not source.manifest else f'{source.where}: no listed file is an image')
  kind = 'class' if source.manifest else 'class folder(s)'
  if few:
    raise ValueError(f'{kind} with fewer than {defaults.min_images_per_class} good images: ' +
                     ', '.join(f'{_class_place(source, label)} ({counts[label]})'
                               for label in few) +
                     (': add images, or leave its rows out' if source.manifest else
                      ': add images, or move the folder out'))
  if len(counts) < 2:
    raise ValueError(f'{source.where}: only one {kind.split("(")[0].strip()} '
                     f'({next(iter(counts))!r}) holds images; a classifier needs two or more')
  classes = sorted(counts)
  name = name or _name_of(out)
  lines, toml = _summary_and_toml(source, name, listing, good, broken, classes)
  scores = naive_baseline(good, classes)
  if scores is not None:
    lines.append(baseline_scores.describe(scores, of='images'))
    toml += '\n' + baseline_scores.to_toml(
        scores, again=f'`python -m pipeline dataset init {source.command}`')
  out.mkdir(parents=True, exist_ok=True)
  (out / 'schema.pbtxt').write_text(schema.schema_text(classes))
  (out / 'dataset.toml').write_text(toml)
  for line in lines:
    say(line)
  import datadefs  # pylint: disable=import-outside-toplevel; checks what was written
  datadefs.load(str(out))
  say(f'wrote {out / "dataset.toml"} and {out / "schema.pbtxt"}; review them, then: '
      f'make run DATASET={out} DATA_ROOT={_shell_word(source.data_root)}')
  return out / 'dataset.toml'


def naive_baseline(good, classes: Sequence[str]) -> Optional[BaselineScores]:
  """The `[baseline]` scores of always predicting the train part's majority class, on the eval
  part, the images split as the ExampleGen splits them (by content hash); None when a part is
  empty. No gradient-boosted model is fit to pixels."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  task = tasks.TASKS[definition.TASK]
  hashes = [image_files.content_hash(image_files.read_bytes(image.path)).encode()
            for image, _ in good]
  split = splits.split_indices_by_feature(RAW_CONTENT_HASH, hashes)
  labels = np.array([list(classes).index(image.label) for image, _ in good])
  train, held = (labels[split == splits.SPLIT_NAMES.index(name)] for name in ('train', 'eval'))
  if not len(train) or not len(held):
    return None
  return BaselineScores(
      metric=task.blessing_metric, naive=task.score(held, task.naive_predictions(train, len(held))),
      gbm=None, rows=len(labels), eval_rows=len(held),
      how="always the train part's majority class, scored on the eval part (the images split by "
          'content hash, as the ExampleGen splits them); no gradient-boosted model is fit to '
          'pixels')


def _class_place(source: _Source, label: str) -> str:
  return repr(label) if source.manifest else str(Path(source.where) / label)


def _summary_and_toml(source, name, listing, good, broken, classes):
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
  lines = [f'{len(good)} images in {len(classes)} classes '
           f'{"listed in" if source.manifest else "under"} {source.where}:']
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
    lines.append(f'ignored: {len(listing.ignored)} row(s) that repeat an earlier row:'
                 if source.manifest else
                 f'ignored: {len(listing.ignored)} file(s) that are not images of a class '
                 '(hidden files, clutter, files beside the class folders):')
    lines += [f'  {path}' for path in listing.ignored]
  lines += list(source.notes)
  lines.append(f'blessing threshold: {baseline.threshold:.4g}, against {baseline.text}')
  toml = [
      f'# Dataset definition written by `python -m pipeline dataset init {source.command}`',
      f'# ({len(good)} images in {source.what}). Review it.',
      f'name = "{name}"', 'kind = "image"', f'task = "{definition.TASK}"',
      'schema = "schema.pbtxt"', 'model = "small_cnn"  # or "mobilenet_v3_small"',
      f'# Naive baseline: {baseline.text}.',
      f'blessing_threshold = {baseline.threshold:.6g}', '', '[label]',
      ('# The classes in id order; a row with another label is refused.' if source.manifest
       else '# The class folders holding images, in id order; a folder not listed is refused.'),
      'classes = [' + ', '.join(_quoted(label) for label in classes) + ']', '', '[image]',
      f'# Every image is resized to size x size; the median shorter side is {shorter:g} px.',
      f'size = {size}',
      f'channels = {channels}  # ' + ('every image is grey' if channels == 1 else
                                     'RGB (grey images are repeated into 3 channels)'),
      f'max_broken_fraction = {fraction}' + (
          f'  # raised from {ImageSpec().max_broken_fraction}: {len(broken)} of {total} files '
          'are broken' if fraction != ImageSpec().max_broken_fraction else ''),
      f'min_images_per_class = {ImageSpec().min_images_per_class}',
      *(['# The images are the rows of this file in the data root (DATA_ROOT).',
         f'manifest = {_quoted(source.manifest)}'] if source.manifest else []), '',
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

