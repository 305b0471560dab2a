"""The pre-check of an image folder before any component runs (runs/precheck.py through
datadefs/kinds.py): every image decoded once, on every core, and the folder refused when
files.folder_problems says so. Under the definition's max_broken_fraction the broken files
are not a problem here: the ExampleGen leaves them out and counts them."""

import concurrent.futures
import os
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from datadefs.images import files as image_files
from datadefs.images import manifest


def verify_all(listing: image_files.Listing
               ) -> List[Tuple[image_files.ImageFile, Optional[image_files.Verified], str]]:
  """(image, what verify says or None, why not) of every image in `listing`, in its order."""
  # TensorFlow's decoders release the GIL: threads decode on every core.
  with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
    results = list(pool.map(image_files.verify_file, [image.path for image in listing.images]))
  return [(image, verified, why) for image, (verified, why) in zip(listing.images, results)]


def broken_files(listing: image_files.Listing) -> List[Tuple[str, str]]:
  """(path, why) of every image in `listing` that does not decode, in path order."""
  return [(image.path, why) for image, verified, why in verify_all(listing) if verified is None]


def check_files(files: Sequence[Path], dataset, limit: int) -> List[str]:
  """Problems (at most `limit`) of the image folder whose entries are `files` (its class
  folders, and any file beside them; or its manifest, when the dataset has one), each naming
  its folder, file or manifest line."""
  if dataset.image.manifest:
    if not files:
      return []
    try:
      listing = manifest.data_root_listing(str(Path(files[0]).parent), dataset.image.manifest,
                                           cloud_paths=False)
    except (FileNotFoundError, manifest.ManifestError) as error:
      return [str(error)]
  else:
    listing = image_files.list_entries([str(path) for path in files])
  if not listing.images:
    return [f'no image files in class folders under {Path(files[0]).parent}: put the images '
            'of each class in a folder named after the class '
            f'({", ".join(image_files.IMAGE_SUFFIXES)})'] if files else []
  problems = image_files.folder_problems(listing, broken_files(listing),
                                         dataset.label.classes, dataset.image)
  return problems[:limit]
