"""A CSV manifest in Vertex AI's image-classification import format, read into the same Listing
(datadefs/images/files.py) a folder of class folders gives, so every check and the ExampleGen
treat both alike:

    [ML_USE,]PATH,LABEL          one image per row, no header row
    training,gs://bucket/cats/1.jpg,cat
    images/dog 1.png,dog         (a relative path is read from the manifest's folder)

ML_USE is `training`, `validation` or `test` (any case). It is read and counted, not followed:
this project splits every image by the hash of its content (components/image_example_gen), so a
duplicate image cannot straddle train and eval, which a hand-made split can let happen.
A LABEL is a class name: not empty, no "/", not starting with "." (a class is named like a
folder, datadefs/images/definition.py). One label a row: a multi-label row is refused.

`gs://` paths are read on Vertex. Elsewhere (`dataset init`, the local engines' pre-check:
`cloud_paths=False`) a gs:// path is refused naming its line: copy the images here and list local
paths, or run on Vertex. Bad rows are refused all together, each named by its line; a row that
repeats an earlier one (same path and label) is kept once and said among the ignored lines.
"""

import collections
import csv
import dataclasses
import io
import posixpath
from typing import Dict, List, Tuple

from datadefs.images import files as image_files

ML_USES = ('training', 'validation', 'test')
CLOUD_PREFIX = 'gs://'
_HEADER_WORDS = {'ml_use', 'path', 'gcs_file_path', 'file', 'filename', 'image', 'label'}


class ManifestError(ValueError):
  """The manifest cannot be read; the message names the file and each bad line."""


@dataclasses.dataclass
class Manifest:
  listing: image_files.Listing
  ml_use: Dict[str, int]  # {training/validation/test: rows}; rows without ML_USE not counted


def read_manifest(path: str, *, cloud_paths: bool) -> Manifest:
  """The images `path` lists, sorted by path. ManifestError names every bad line (up to
  files.MAX_LISTED); FileNotFoundError when there is no such file."""
  gfile = image_files._gfile()  # pylint: disable=protected-access; one TensorFlow import site
  if not gfile.exists(path) or gfile.isdir(path):
    raise FileNotFoundError(f'manifest {path} does not exist or is not a file')
  text = image_files.read_bytes(path).decode('utf-8-sig', errors='replace')
  folder = posixpath.dirname(path)
  problems: List[str] = []
  seen: Dict[str, Tuple[int, str]] = {}
  listing = image_files.Listing()
  ml_use: Dict[str, int] = collections.Counter()
  for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
    if not any(field.strip() for field in row):
      continue
    try:
      use, image, label = _fields(row, number)
    except ManifestError as error:
      problems.append(f'line {number}: {error}')
      continue
    if image.startswith(CLOUD_PREFIX) and not cloud_paths:
      problems.append(f'line {number}: {image} is a Cloud Storage path, read only on Vertex '
                      '(ENGINE=vertex, or `python -m pipeline submit`): this engine reads local '
                      'files; copy the images here and list their local paths')
      continue
    full = image if image.startswith(CLOUD_PREFIX) or posixpath.isabs(image) else (
        posixpath.join(folder, image))
    if full in seen:
      first, first_label = seen[full]
      if first_label != label:
        problems.append(f'line {number}: {image} is labelled {label!r} here and '
                        f'{first_label!r} on line {first}: give each image one label')
      else:
        listing.ignored.append(f'{path} line {number}: repeats line {first}')
      continue
    seen[full] = (number, label)
    if use:
      ml_use[use] += 1
    listing.images.append(image_files.ImageFile(full, label))
  if problems:
    listed = problems[:image_files.MAX_LISTED]
    more = (f'\n  ... and {len(problems) - len(listed)} more' if len(problems) > len(listed)
            else '')
    raise ManifestError(f'manifest {path} has {len(problems)} bad line(s) (the format is '
                        'Vertex AI\'s image classification import: [ML_USE,]PATH,LABEL, no '
                        'header):\n  ' + '\n  '.join(listed) + more)
  if not listing.images:
    raise ManifestError(f'manifest {path} lists no image: write one [ML_USE,]PATH,LABEL row '
                        'per image')
  listing.images.sort()
  return Manifest(listing, dict(ml_use))


def _fields(row: List[str], number: int) -> Tuple[str, str, str]:
  """(ML_USE or '', path, label) of one row; ManifestError says what is wrong with it."""
  fields = [field.strip() for field in row]
  if number == 1 and {field.lower() for field in fields} & _HEADER_WORDS and not any(
      field.lower().endswith(image_files.IMAGE_SUFFIXES) for field in fields):
    raise ManifestError(f'{",".join(fields)!r} looks like a header row; the import format has '
                        'none: delete it')
  if len(fields) == 3 and fields[0].lower() in ML_USES:
    use, image, label = fields[0].lower(), fields[1], fields[2]
  elif len(fields) == 2:
    use, image, label = '', fields[0], fields[1]
  elif len(fields) >= 3 and fields[1].lower() in ML_USES:
    raise ManifestError('ML_USE must come first: ML_USE,PATH,LABEL')
  elif len(fields) == 3:
    raise ManifestError(f'{fields[0]!r} is not an ML_USE ({", ".join(ML_USES)}); a row is '
                        '[ML_USE,]PATH,LABEL')
  elif len(fields) > 3:
    raise ManifestError(f'{len(fields)} fields: one label a row ([ML_USE,]PATH,LABEL); '
                        'multi-label rows are not supported (a class per image)')
  else:
    raise ManifestError(f'{fields[0]!r} has no label: a row is [ML_USE,]PATH,LABEL')
  if not image:
    raise ManifestError('the path is empty')
  if not label:
    raise ManifestError(f'{image} has an empty label')
  if '/' in label or label.startswith('.'):
    raise ManifestError(f'label {label!r} cannot be a class name (holds "/" or starts with '
                        '".")')
  return use, image, label


def data_root_listing(root: str, manifest: str, *, cloud_paths: bool) -> image_files.Listing:
  """The images of a data root: those its manifest (a file name in `root`) lists, or, with no
  manifest, those of its class folders. FileNotFoundError, ManifestError name what is wrong."""
  if not manifest:
    return image_files.list_images(root)
  return read_manifest(posixpath.join(root, manifest), cloud_paths=cloud_paths).listing
