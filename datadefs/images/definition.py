"""The image kind's part of a definition (datadefs/definition.py reads the rest): the `[image]`
table (ImageSpec, checked field by field, each error naming the field) and the label's classes.

An image dataset's columns are not declared: they are the ExampleGen's RAW_* features
(datadefs/images/spec.py), none of them a model input in the tabular sense. The label is the
class folder's name (RAW_LABEL), one of `label.classes`; the task is multiclass.

    kind = "image"
    task = "multiclass"
    [label]
    classes = ["cat", "dog"]
    [image]
    size = 64
    channels = 3
    [image.augmentation]
    rotation = 0.05

Images listed in a CSV manifest (Vertex AI's import format) instead of class folders:
`manifest = "images.csv"` in `[image]`, a file in the data root (datadefs/images/manifest.py).
"""

import dataclasses
import posixpath
from typing import Any, Dict, Mapping, Tuple

from datadefs.fields import Fields
from datadefs.images import spec
from datadefs.images.spec import Augmentation, ImageSpec

# The examples' features and their column types (what the tabular kind declares in [columns]).
RAW_TYPES: Dict[str, str] = {
    spec.RAW_IMAGE: 'string', spec.RAW_FORMAT: 'string', spec.RAW_HEIGHT: 'int',
    spec.RAW_WIDTH: 'int', spec.RAW_LABEL: 'string', spec.RAW_CONTENT_HASH: 'string',
}
TASK = 'multiclass'
CHANNELS = (1, 3)
MIN_SIZE, MAX_SIZE = 8, 1024
# Augmentation factors: Keras' random layers take fractions; at 0.5 and above an image is
# turned, zoomed or moved out of recognition.
_FACTORS = ('rotation', 'zoom', 'translation', 'contrast')
_FLIPS = ('horizontal_flip', 'vertical_flip')
MAX_FACTOR = 0.5


def parse_label(fields: Fields, task: str) -> Tuple[str, Tuple[str, ...]]:
  """(label column, classes) of an image dataset's `[label]` table."""
  if task != TASK:
    raise fields.error('task', f'an image dataset classifies its images: task must be {TASK!r}, '
                       f'got {task!r}')
  label = Fields(fields.table('label'), fields.source, prefix='label.')
  column = label.text('column', default=spec.RAW_LABEL)
  if column != spec.RAW_LABEL:
    raise label.error('column', f'an image\'s label is its class folder, the feature '
                      f'{spec.RAW_LABEL!r}; leave column out (got {column!r})')
  classes = label.list_of('classes', str, default=[])
  if len(classes) < 2:
    raise label.error('classes', 'list the class folder names (at least two), e.g. '
                      'classes = ["cat", "dog"]')
  if len(set(classes)) != len(classes):
    raise label.error('classes', f'lists a class twice: {classes}')
  bad = [name for name in classes if not name.strip() or '/' in name or name.startswith('.')]
  if bad:
    raise label.error('classes', f'{bad[0]!r} cannot be a folder name (empty, holds "/" or '
                      'starts with "."): a class is the name of its folder')
  label.no_unknown()
  return column, tuple(classes)


def parse_image(fields: Fields) -> ImageSpec:
  """The checked `[image]` table (every field optional: ImageSpec's defaults)."""
  values = fields.values.get('image', {})
  fields.read.add('image')
  image = Fields(values, fields.source, prefix='image.')
  defaults = ImageSpec()
  size = _whole(image, 'size', defaults.size, MIN_SIZE, MAX_SIZE)
  channels = int(image.number('channels', default=defaults.channels))
  if channels not in CHANNELS:
    raise image.error('channels', f'must be 1 (grey) or 3 (RGB), got {channels}')
  fraction = image.number('max_broken_fraction', default=defaults.max_broken_fraction)
  if not 0 <= fraction < 1:
    raise image.error('max_broken_fraction', f'is the share of image files a run may leave '
                      f'out as broken: at least 0 and below 1, got {fraction}')
  min_images = _whole(image, 'min_images_per_class', defaults.min_images_per_class, 1, None)
  weights_file = image.text('weights_file', default='')
  manifest = image.text('manifest', default='')
  if manifest and (posixpath.isabs(manifest) or '://' in manifest or
                   not manifest.lower().endswith('.csv')):
    raise image.error('manifest', f'is the name of a .csv file in the data root (DATA_ROOT), '
                      f'e.g. "images.csv", got {manifest!r}')
  augmentation = _augmentation(image, image.values.get('augmentation', {}))
  image.read.add('augmentation')
  image.no_unknown()
  return ImageSpec(size=size, channels=channels, augmentation=augmentation,
                   max_broken_fraction=float(fraction), min_images_per_class=min_images,
                   weights_file=weights_file, manifest=manifest)


def _whole(fields: Fields, key: str, default: int, low: int, high) -> int:
  value = fields.number(key, default=default)
  if value != int(value) or value < low or (high is not None and value > high):
    span = f'{low}..{high}' if high is not None else f'>= {low}'
    raise fields.error(key, f'must be a whole number {span}, got {value}')
  return int(value)


def _augmentation(image: Fields, values: Any) -> Augmentation:
  table = Fields(values, image.source, prefix='image.augmentation.')
  options: Dict[str, Any] = {}
  for name in _FACTORS:
    value = table.number(name, default=0.0)
    if not 0 <= value < MAX_FACTOR:
      raise table.error(name, f'is a fraction (0 leaves the layer out), at least 0 and below '
                        f'{MAX_FACTOR}, got {value}')
    options[name] = float(value)
  for name in _FLIPS:
    options[name] = table.boolean(name, default=False)
  table.no_unknown()
  return Augmentation(**options)


def spec_to_toml(image: ImageSpec) -> Mapping[str, Any]:
  """The `[image]` table of `image` (what parse_image reads back)."""
  values = dataclasses.asdict(image)
  values['augmentation'] = dict(values['augmentation'])
  return values
