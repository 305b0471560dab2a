"""datadefs/images/: the image definition, the folder listing and verification, the pre-check,
and the digits data made at run time."""

import dataclasses

import pytest

import datadefs
from datadefs import generated
from datadefs.definition import Dataset, DatasetError, parse
from datadefs.images import files as image_files
from datadefs.images import spec
from runs import precheck
from tests import image_folders

_VALID = {'name': 'pets', 'kind': 'image', 'task': 'multiclass', 'blessing_threshold': 0.6,
          'label': {'classes': ['cat', 'dog']},
          'image': {'size': 32, 'channels': 1, 'augmentation': {'rotation': 0.1}}}


def _with(**changes):
  values = {key: (dict(value) if isinstance(value, dict) else value)
            for key, value in _VALID.items()}
  values.update(changes)
  return values


def _dataset(**image) -> Dataset:
  return parse(_with(image={**_VALID['image'], **image}), 'test.toml')


def test_an_image_definition_parses_with_its_fixed_features_and_label():
  dataset = parse(_VALID, 'test.toml')
  assert dataset.kind == 'image'
  assert dataset.label.classes == ('cat', 'dog')
  assert dataset.label_key == spec.LABEL_FEATURE
  assert dataset.image.size == 32 and dataset.image.channels == 1
  assert dataset.image.augmentation.rotation == 0.1
  assert not dataset.image.augmentation.horizontal_flip
  assert set(dataset.column_types) == {spec.RAW_IMAGE, spec.RAW_FORMAT, spec.RAW_HEIGHT,
                                       spec.RAW_WIDTH, spec.RAW_LABEL, spec.RAW_CONTENT_HASH}
  assert dataset.model_name == 'small_cnn'
  assert dataset.num_outputs == 2
  assert Dataset.from_dict(dataset.to_dict()) == dataclasses.replace(dataset, schema_path='')


@pytest.mark.parametrize('changes, field', [
    ({'task': 'binary'}, 'task'),
    ({'label': {'classes': ['cat']}}, 'label.classes'),
    ({'label': {'classes': ['cat', 'cat']}}, 'label.classes'),
    ({'label': {'classes': ['cat', 'a/b']}}, 'label.classes'),
    ({'label': {'classes': ['cat', 'dog'], 'column': 'species'}}, 'label.column'),
    ({'image': {'size': 4}}, 'image.size'),
    ({'image': {'size': 32.5}}, 'image.size'),
    ({'image': {'channels': 2}}, 'image.channels'),
    ({'image': {'max_broken_fraction': 1.0}}, 'image.max_broken_fraction'),
    ({'image': {'min_images_per_class': 0}}, 'image.min_images_per_class'),
    ({'image': {'augmentation': {'zoom': 0.9}}}, 'image.augmentation.zoom'),
    ({'image': {'augmentation': {'horizontal_flip': 'yes'}}},
     'image.augmentation.horizontal_flip'),
    ({'image': {'augmentation': {'shear': 0.1}}}, 'image.augmentation.shear'),
    ({'image': {'colour': 3}}, 'image.colour'),
    ({'columns': {'x': 'int'}}, 'columns'),
    ({'model': 'mlp'}, 'model'),
])
def test_a_bad_image_definition_names_the_field(changes, field):
  with pytest.raises(DatasetError, match=f'test.toml: {field}:'):
    parse(_with(**changes), 'test.toml')


def test_the_image_table_may_be_left_out_for_the_defaults():
  values = _with()
  del values['image']
  assert parse(values, 'test.toml').image == spec.ImageSpec()


def test_digits_loads_and_its_data_is_generated_once_under_the_given_folder(tmp_path):
  dataset = datadefs.load('digits')
  assert dataset.kind == 'image' and len(dataset.label.classes) == 10
  with pytest.raises(DatasetError, match='made at run time'):
    datadefs.data_root(dataset)
  root = datadefs.data_root(dataset, tmp_path)
  assert root == str(tmp_path / 'digits')
  listing = image_files.list_images(root)
  assert set(listing.counts()) == set(dataset.label.classes)
  first = {image.path: (tmp_path / image.path).read_bytes() for image in listing.images[:5]}
  (tmp_path / 'digits' / 'zero' / 'marker').write_text('x')  # Reused, not rewritten.
  assert datadefs.data_root(dataset, tmp_path) == root
  assert (tmp_path / 'digits' / 'zero' / 'marker').exists()
  again = datadefs.data_root(dataset, tmp_path / 'again')
  for path, data in first.items():
    assert (tmp_path / 'again' / 'digits').joinpath(*path.split('/')[-2:]).read_bytes() == data
  assert not list(tmp_path.glob('.digits.partial*'))


def test_unknown_generated_data_is_refused_naming_the_known():
  with pytest.raises(ValueError, match='generated:digits'):
    generated.data_root('generated:faces', None)


@pytest.mark.parametrize('kind', sorted(image_folders.SUFFIX))
def test_every_format_verifies_with_its_format_and_size(kind):
  verified = image_files.verify(image_folders.encoded(3, kind, height=10, width=14))
  channels = {'png_grey': 1, 'png16': 1, 'png_rgba': 4}.get(kind, 3)
  assert verified == (kind.split('_')[0].replace('png16', 'png'), 10, 14, channels)


@pytest.mark.parametrize('data, why', [
    (b'', 'empty'), (b'hello, not an image', 'not an image'),
    (image_folders.encoded(1, 'jpeg')[:200], 'cannot be decoded as JPEG'),
    (image_folders.encoded(1, 'png')[:100], 'cannot be decoded as PNG'),
])
def test_broken_images_say_why(data, why):
  with pytest.raises(image_files.BrokenImage, match=why):
    image_files.verify(data)


def test_listing_takes_class_folders_with_spaces_and_ignores_hidden_files_and_clutter(tmp_path):
  folders = image_folders.write_folder(tmp_path, {'big cat': 3, 'dog': 2})
  clutter = image_folders.add_clutter(tmp_path, folders['dog'])
  (tmp_path / '.hidden').mkdir()
  (tmp_path / '.hidden' / 'a.png').write_bytes(image_folders.encoded(0))
  (folders['dog'] / 'nested').mkdir()
  (folders['dog'] / 'nested' / 'deep.png').write_bytes(image_folders.encoded(0))
  listing = image_files.list_images(str(tmp_path))
  assert listing.counts() == {'big cat': 3, 'dog': 3}
  assert set(listing.ignored) == {str(path) for path in clutter.values()} | {
      str(tmp_path / '.hidden') + '/'}


def _check(root, dataset):
  return precheck.check_data_root(str(root), dataset)


def test_precheck_passes_a_folder_whose_few_broken_files_are_under_the_threshold(tmp_path):
  folders = image_folders.write_folder(tmp_path, {'cat': 60, 'dog': 60})
  image_folders.add_broken(folders['cat'])  # 3 of 123 files: under 0.05.
  assert _check(tmp_path, _dataset(max_broken_fraction=0.05)) == 2


def test_precheck_refuses_more_broken_files_than_allowed_listing_each(tmp_path):
  folders = image_folders.write_folder(tmp_path, {'cat': 6, 'dog': 6})
  broken = image_folders.add_broken(folders['cat'])
  with pytest.raises(precheck.DataCheckError) as error:
    _check(tmp_path, _dataset(max_broken_fraction=0.01))
  message = str(error.value)
  assert '3 of 15 image files are broken' in message
  for path in broken.values():
    assert str(path) in message


def test_precheck_refuses_a_class_with_too_few_images_naming_its_folder(tmp_path):
  image_folders.write_folder(tmp_path, {'cat': 6, 'dog': 2})
  with pytest.raises(precheck.DataCheckError, match="class 'dog' has 2 good image"):
    _check(tmp_path, _dataset())


def test_precheck_refuses_an_unknown_class_folder(tmp_path):
  image_folders.write_folder(tmp_path, {'cat': 6, 'dog': 6, 'bird': 6})
  with pytest.raises(precheck.DataCheckError, match="class folder 'bird' is not one of"):
    _check(tmp_path, _dataset())


def test_precheck_refuses_a_folder_without_class_folders(tmp_path):
  (tmp_path / 'a.png').write_bytes(image_folders.encoded(0))
  with pytest.raises(precheck.DataCheckError, match='no image files in class folders'):
    _check(tmp_path, _dataset())
