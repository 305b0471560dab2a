"""components/image_example_gen: class folders of images -> tf.Examples of the original bytes,
split by content, broken files left out and counted (or refused over the threshold)."""

import glob
import hashlib
import json
import os
import shutil

import pytest
import tensorflow as tf
from tfx.dsl.components.base import base_beam_executor
from tfx.types import standard_artifacts

from components.image_example_gen import ImageExampleGen
from components.image_example_gen import ImageExampleGenExecutor
from components.image_example_gen import ImageFolderConfig
from components.image_example_gen import ImageInputError
from core import data_quality
from core import example_files
from core.beam_args import LOCAL_BEAM_ARGS
from core.example_files import ExampleFilesConfig
from datadefs.images import spec
from tests import image_folders

LAYOUT = ExampleFilesConfig(num_shards=3, compression='gzip')
CLASSES = ('big cat', 'dog')


def _run(tmp_path, root, out='out', classes=CLASSES, **limits):
  """Runs the executor's Do as the launcher would; returns the artifact and
  {split: [tf.Example]}."""
  artifact = standard_artifacts.Examples()
  artifact.uri = str(tmp_path / out)
  executor = ImageExampleGenExecutor(base_beam_executor.BaseBeamExecutor.Context(
      beam_pipeline_args=list(LOCAL_BEAM_ARGS), tmp_dir=str(tmp_path / 'tmp')))
  component = ImageExampleGen(input_base=str(root), files=LAYOUT,
                              folder=ImageFolderConfig(classes=classes, **limits))
  properties = {key: value for key, value in component.exec_properties.items()
                if value is not None}
  executor.Do({}, {'examples': [artifact]}, properties)
  return artifact, {split: [tf.train.Example.FromString(record) for record in _records(
      artifact.uri, split)] for split in ('train', 'eval')}


def _records(uri, split):
  return [record.numpy() for path in sorted(glob.glob(os.path.join(uri, f'Split-{split}', '*')))
          for record in tf.data.TFRecordDataset(path, example_files.tf_compression_type(path))]


def _value(example, name):
  feature = example.features.feature[name]
  return getattr(feature, feature.WhichOneof('kind')).value[0]


def _by_hash(examples):
  return {_value(example, spec.RAW_CONTENT_HASH).decode(): (split, example)
          for split, items in examples.items() for example in items}


def test_each_image_is_one_example_of_its_original_bytes_format_size_and_class(tmp_path):
  root = tmp_path / 'data'
  image_folders.write_folder(root, {'big cat': 6, 'dog': 6},
                             kinds=['jpeg', 'png', 'png_rgba', 'png16', 'bmp', 'gif'])
  artifact, examples = _run(tmp_path, root)
  files = {hashlib.sha256(path.read_bytes()).hexdigest(): path
           for path in sorted(root.glob('*/*'))}
  found = _by_hash(examples)
  assert set(found) == set(files)
  assert examples['train'] and examples['eval']
  for digest, (_, example) in found.items():
    path = files[digest]
    assert _value(example, spec.RAW_IMAGE) == path.read_bytes()  # never re-encoded
    assert _value(example, spec.RAW_LABEL).decode() == path.parent.name
    assert (_value(example, spec.RAW_HEIGHT), _value(example, spec.RAW_WIDTH)) == (12, 16)
    assert _value(example, spec.RAW_FORMAT).decode() in spec.FORMATS
  formats = {_value(example, spec.RAW_FORMAT).decode() for _, example in found.values()}
  assert formats == set(spec.FORMATS)
  for split in ('train', 'eval'):
    names = os.listdir(os.path.join(artifact.uri, f'Split-{split}'))
    assert len(names) == 3 and all(name.endswith('.gz') for name in names)
  quality = data_quality.from_property(artifact.get_string_custom_property(
      data_quality.PROPERTY))
  assert {split: counts['rows'] for split, counts in quality['splits'].items()} == {
      split: len(items) for split, items in examples.items()}
  assert quality['files'] == {'left_out': [], 'ignored': []}


def test_the_split_follows_the_content_duplicates_together_and_renames_stay(tmp_path):
  root = tmp_path / 'data'
  folders = image_folders.write_folder(root, {'big cat': 30, 'dog': 30})
  _, first = _run(tmp_path, root, out='first')
  # Rename every file, and copy some into the other class folder's name space as duplicates.
  for path in sorted(root.glob('*/*')):
    path.rename(path.with_name('renamed-' + path.name))
  for path in sorted(folders['dog'].glob('*'))[:10]:
    shutil.copy(path, folders['dog'] / ('copy-' + path.name))
  _, second = _run(tmp_path, root, out='second')
  before = {digest: split for digest, (split, _) in _by_hash(first).items()}
  splits_of = {}
  for split, items in second.items():
    for example in items:
      splits_of.setdefault(_value(example, spec.RAW_CONTENT_HASH).decode(), set()).add(split)
  assert all(len(splits) == 1 for splits in splits_of.values())
  assert {digest: splits.pop() for digest, splits in splits_of.items()} == before
  assert sum(len(items) for items in second.values()) == 70


def test_broken_files_under_the_threshold_are_left_out_counted_and_named(tmp_path):
  root = tmp_path / 'data'
  folders = image_folders.write_folder(root, {'big cat': 50, 'dog': 50})
  broken = image_folders.add_broken(folders['dog'])
  clutter = image_folders.add_clutter(root, folders['big cat'])
  artifact, examples = _run(tmp_path, root, max_broken_fraction=0.05)
  assert sum(len(items) for items in examples.values()) == 100
  quality = data_quality.from_property(artifact.get_string_custom_property(
      data_quality.PROPERTY))
  left_out = dict(quality['files']['left_out'])
  assert set(left_out) == {str(path) for path in broken.values()}
  assert 'cannot be decoded as JPEG' in left_out[str(broken['truncated'])]
  assert left_out[str(broken['empty'])] == 'empty file'
  assert left_out[str(broken['text'])].startswith('not an image')
  assert set(quality['files']['ignored']) == {str(path) for path in clutter.values()}
  summary = data_quality.run_summary(quality)
  assert summary['files_left_out'] == 3 and summary['files_ignored'] == 4
  lines = '\n'.join(data_quality.left_out_files_lines(summary))
  for path in broken.values():
    assert str(path) in lines
  json.dumps(summary)


def test_more_broken_files_than_allowed_fail_naming_each(tmp_path):
  root = tmp_path / 'data'
  folders = image_folders.write_folder(root, {'big cat': 6, 'dog': 6})
  broken = image_folders.add_broken(folders['dog'])
  with pytest.raises(ImageInputError) as error:
    _run(tmp_path, root, max_broken_fraction=0.01)
  for path in broken.values():
    assert str(path) in str(error.value)


def test_a_class_with_too_few_images_fails_naming_it(tmp_path):
  root = tmp_path / 'data'
  image_folders.write_folder(root, {'big cat': 6, 'dog': 2})
  with pytest.raises(ImageInputError, match="class 'dog' has 2 good image"):
    _run(tmp_path, root)


def test_an_unknown_class_folder_fails_before_reading(tmp_path):
  root = tmp_path / 'data'
  image_folders.write_folder(root, {'big cat': 6, 'dog': 6, 'bird': 6})
  with pytest.raises(ImageInputError, match="class folder 'bird' is not one of"):
    _run(tmp_path, root)


def test_a_manifest_is_read_instead_of_the_class_folders(tmp_path):
  root = tmp_path / 'data'
  folders = image_folders.write_folder(root / 'pictures', {'one': 8, 'two': 8})
  broken = image_folders.add_broken(folders['two'])
  listed = sorted(folders['one'].glob('*.*'))[:6] + sorted(folders['two'].glob('img*'))[:6]
  # Labels from the manifest, not the folders: the first two of 'one' are listed as 'big cat'.
  labels = {path: ('big cat' if index < 2 else 'dog') for index, path in enumerate(listed)}
  rows = [f'training,{path.relative_to(root)},{labels[path]}' for path in listed]
  rows.append(f'test,{broken["empty"]},dog')
  rows.append(f'test,{root / "gone.png"},dog')
  (root / 'images.csv').write_text('\n'.join(rows) + '\n')
  artifact, examples = _run(tmp_path, root, classes=CLASSES, min_images_per_class=2,
                            max_broken_fraction=0.2, manifest='images.csv')
  found = _by_hash(examples)
  assert sorted(_value(example, spec.RAW_LABEL).decode() for _, example in found.values()) == (
      sorted(labels.values()))
  assert {digest for digest in found} == {
      hashlib.sha256(path.read_bytes()).hexdigest() for path in listed}
  quality = data_quality.from_property(artifact.get_string_custom_property(
      data_quality.PROPERTY))
  assert sorted(quality['files']['left_out']) == sorted(
      [[str(broken['empty']), 'empty file'], [str(root / 'gone.png'), 'not found']])
  (root / 'images.csv').write_text('gs://nowhere/a.png,dog\nbird.png\n')
  with pytest.raises(ImageInputError, match='line 2: .*no label'):
    _run(tmp_path, root, out='bad', manifest='images.csv')
