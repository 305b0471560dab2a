"""Data kinds: what a dataset's examples are made of. `tabular` (rows of a CSV) is the first;
each kind plugs into every layer through one seam per layer, keyed by the dataset's `kind`:

  datadefs/kinds.py           where its examples can come from, and the check of its data
                              files before a run (this registry)
  pipeline/sources.py         its ExampleGen
  transform/preprocessing.py  its preprocessing_fn (PREPROCESSORS)
  trainer/kinds.py            the decode/parse step of the tf.data input_fn, in the style of
                              tensorflow/models' InputReader parser_fn (trainer/raw_input.py
                              puts the Transform graph before it when Transform writes no
                              examples: `transform_writes_examples`)

A new kind is one module per layer plus one registration line in each of those places.
"""

import dataclasses
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple



@dataclasses.dataclass(frozen=True)
class DataKind:
  name: str
  # Where its examples can come from; the first is the default.
  sources: Tuple[str, ...]
  # The sources an engine on this machine can read (BigQuery needs Google Cloud).
  local_sources: Tuple[str, ...]
  # The pre-check of a source's files: (files, dataset, at most this many) -> problems, each
  # naming its file (runs/precheck.py).
  check_files: Callable[[Sequence[Path], object, int], List[str]]
  # The models a dataset of this kind may name (`model` in its definition); the first is the
  # default. trainer/model.py builds each by name.
  models: Tuple[str, ...] = ('mlp',)
  # Whether its data is a folder of folders (one per class): the pre-check then gets the data
  # root's subfolders as well as its files.
  folders: bool = False
  # Whether the Evaluator slices its metrics by the raw label (accuracy per class: TFMA slices
  # of the label column), beside the whole eval split. The blessing stays on the whole split.
  slices_by_class: bool = False
  # Whether StatisticsGen computes TFDV's semantic-domain statistics (images: the formats
  # found by their magic bytes, which the schema's image_domain is checked against).
  semantic_domain_stats: bool = False
  # Whether Transform writes its transformed examples for the Trainer to read. When it does
  # not, the Trainer reads the ExampleGen's examples and applies the Transform graph as it
  # reads them (trainer/raw_input.py), as serving does. Images: the graph only passes the
  # bytes through and maps the label, so writing its output would copy every image once more
  # for nothing (the Trainer caches what it decodes, so the graph runs once per image).
  transform_writes_examples: bool = True


def _check_tabular_files(files: Sequence[Path], dataset, limit: int) -> List[str]:
  # Imported when used: the CSV reader loads pyarrow, which reading a definition does not need.
  from datadefs.tabular import checks  # pylint: disable=import-outside-toplevel
  return checks.check_files(files, dataset, limit)


def _check_image_files(files: Sequence[Path], dataset, limit: int) -> List[str]:
  # Imported when used: verifying images decodes them with TensorFlow.
  from datadefs.images import checks  # pylint: disable=import-outside-toplevel
  return checks.check_files(files, dataset, limit)


KINDS: Dict[str, DataKind] = {
    'tabular': DataKind('tabular', sources=('csv', 'tfrecord', 'bigquery'),
                        local_sources=('csv', 'tfrecord'), check_files=_check_tabular_files,
                        models=('mlp', 'gradient_boosted_trees')),
    # A folder with one subfolder per class (datadefs/images/).
    'image': DataKind('image', sources=('folder',), local_sources=('folder',),
                      check_files=_check_image_files,
                      models=('small_cnn', 'mobilenet_v3_small'), folders=True,
                      slices_by_class=True, semantic_domain_stats=True,
                      transform_writes_examples=False),
}
