"""An image folder as the ExampleGen, the pre-check and `dataset init` all read it: one subfolder
per class (the layout of Keras' `image_dataset_from_directory`), images anywhere below it.

  list_images(root)    the images (path, class), and what is ignored: hidden files and folders,
                       clutter (Thumbs.db, desktop.ini), files whose name is not an image's
                       (notes.txt) and files beside the class folders. Local or gs:// paths.
  verify(data)         the image's format, height and width, from decoding it fully once
                       (tf.io.decode_image, first frame of a GIF); BrokenImage says why not. A
                       truncated JPEG, an empty file, text named .png are all broken: TFDV's
                       image statistics read only the first bytes, which these may still have.
  folder_problems(...) what refuses a folder: an unknown class folder, a class with too few
                       images, more broken files than the definition allows (each named).

A file's format is what its bytes are, not its name: a PNG named .jpg is a PNG.
"""

import dataclasses
import hashlib
import posixpath
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from datadefs.images.spec import ImageSpec

# File names that may hold an image, compared lower-case (JPEG in any spelling).
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.bmp', '.dib', '.gif')
CLUTTER = ('thumbs.db', 'desktop.ini', 'ehthumbs.db')
# Each format's first bytes.
_SIGNATURES = ((b'\xff\xd8\xff', 'jpeg'), (b'\x89PNG\r\n\x1a\n', 'png'), (b'GIF87a', 'gif'),
               (b'GIF89a', 'gif'), (b'BM', 'bmp'))
MAX_LISTED = 20  # broken or ignored files named in one message


class BrokenImage(ValueError):
  """The bytes are not an image this project can decode; the message says why."""


class ImageFile(NamedTuple):
  path: str
  label: str  # the class folder's name


@dataclasses.dataclass
class Listing:
  images: List[ImageFile] = dataclasses.field(default_factory=list)
  ignored: List[str] = dataclasses.field(default_factory=list)

  def counts(self) -> Dict[str, int]:
    """{class folder: images in it (broken ones too)}."""
    found: Dict[str, int] = {}
    for image in self.images:
      found[image.label] = found.get(image.label, 0) + 1
    return found


class Verified(NamedTuple):
  format: str
  height: int
  width: int
  channels: int = 3  # as decoded: 1 grey, 3 RGB, 4 RGBA (a palette decodes to RGB)


def _gfile():
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  return tf.io.gfile


def _name(path: str) -> str:
  return posixpath.basename(path.rstrip('/'))


def _hidden(name: str) -> bool:
  return name.startswith(('.', '__MACOSX')) or name.lower() in CLUTTER


def list_images(root: str) -> Listing:
  """The images under `root`'s class folders, sorted by path; the rest ignored."""
  gfile = _gfile()
  if not gfile.isdir(root):
    raise FileNotFoundError(f'image folder {root} does not exist or is not a folder')
  entries = [posixpath.join(root, _name(name)) for name in gfile.listdir(root)]
  return list_entries(entries)


def list_entries(entries: Sequence[str]) -> Listing:
  """The images of the class folders among `entries` (a data root's files and folders)."""
  gfile = _gfile()
  listing = Listing()
  for entry in sorted(str(entry) for entry in entries):
    if not gfile.isdir(entry):
      listing.ignored.append(entry)  # beside the class folders: no class
    elif _hidden(_name(entry)):
      listing.ignored.append(entry.rstrip('/') + '/')
    else:
      _walk(entry.rstrip('/'), _name(entry), listing)
  listing.images.sort()
  listing.ignored.sort()
  return listing


def _walk(folder: str, label: str, listing: Listing) -> None:
  gfile = _gfile()
  for name in sorted(gfile.listdir(folder)):
    path = posixpath.join(folder, _name(name))
    if _hidden(_name(name)):
      listing.ignored.append(path + ('/' if gfile.isdir(path) else ''))
    elif gfile.isdir(path):
      _walk(path, label, listing)
    elif _name(name).lower().endswith(IMAGE_SUFFIXES):
      listing.images.append(ImageFile(path, label))
    else:
      listing.ignored.append(path)


def read_bytes(path: str) -> bytes:
  with _gfile().GFile(path, 'rb') as f:
    return f.read()


def content_hash(data: bytes) -> str:
  return hashlib.sha256(data).hexdigest()


def format_of(data: bytes) -> Optional[str]:
  """'jpeg', 'png', 'gif' or 'bmp' by the first bytes; None for anything else."""
  for signature, name in _SIGNATURES:
    if data.startswith(signature):
      return name
  return None


def verify(data: bytes) -> Verified:
  """The image's format and decoded size; BrokenImage when it cannot be decoded."""
  if not data:
    raise BrokenImage('empty file')
  kind = format_of(data)
  if kind is None:
    raise BrokenImage('not an image: its bytes are not JPEG, PNG, GIF or BMP')
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  try:
    pixels = tf.io.decode_image(data, expand_animations=False)
  except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as error:
    message = error.message.splitlines()[0] if error.message else type(error).__name__
    message = message.split('} ')[-1].replace(' [Op:DecodeImage]', '')
    raise BrokenImage(f'cannot be decoded as {kind.upper()} ({message}): truncated or '
                      'damaged') from None
  height, width = int(pixels.shape[0]), int(pixels.shape[1])
  if not height or not width:
    raise BrokenImage(f'{kind.upper()} of {width}x{height} pixels: no pixels')
  return Verified(kind, height, width, int(pixels.shape[2]))


def verify_file(path: str) -> Tuple[Optional[Verified], str]:
  """(what verify says, '') for a good image; (None, why) for a broken or unreadable one."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  try:
    return verify(read_bytes(path)), ''
  except BrokenImage as error:
    return None, str(error)
  except tf.errors.NotFoundError:
    return None, 'not found'  # a path a manifest lists
  except (OSError, tf.errors.OpError) as error:
    return None, f'cannot be read: {error}'


def folder_problems(listing: Listing, broken: Sequence[Tuple[str, str]],
                    classes: Sequence[str], image: ImageSpec) -> List[str]:
  """What refuses the folder, each naming its folder or file: a class folder not among
  `classes`, a class with fewer good images than image.min_images_per_class, and more broken
  files (`broken`: (path, why)) than image.max_broken_fraction of the images. []: usable (its
  broken files are left out, and counted)."""
  problems = []
  folders = {image_file.label: posixpath.dirname(image_file.path)
             for image_file in listing.images}
  unknown = sorted(set(folders) - set(classes))
  for name in unknown:
    problems.append(f'class folder {name!r} is not one of the classes {list(classes)}: add '
                    'it to label.classes in dataset.toml, or move it out of the data folder')
  bad = {path for path, _ in broken}
  good = Listing([item for item in listing.images if item.path not in bad]).counts()
  for name in classes:
    if good.get(name, 0) < image.min_images_per_class:
      problems.append(f'class {name!r} has {good.get(name, 0)} good image(s) (folder '
                      f'{folders.get(name, name)!r}), fewer than min_images_per_class = '
                      f'{image.min_images_per_class}: add images, or lower it in dataset.toml')
  total = len(listing.images)
  if broken and len(broken) > image.max_broken_fraction * total:
    problems.append(f'{len(broken)} of {total} image files are broken, more than '
                    f'max_broken_fraction = {image.max_broken_fraction} allows: fix or remove '
                    'them (or raise it in dataset.toml)')
    problems += [f'{path}: {why}' for path, why in broken[:MAX_LISTED]]
  return problems
