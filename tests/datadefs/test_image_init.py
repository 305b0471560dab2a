"""datadefs/images/init.py and `dataset init --images`: a definition and schema for a folder of
class folders, with what was found said (classes, counts, formats, sizes, broken and ignored
files)."""

import pytest
import tensorflow_data_validation as tfdv

import datadefs
from datadefs.images import init
from datadefs.images import schema as image_schema
from datadefs.images import spec
from pipeline import cli
from runs import precheck
from tests import image_folders

EVERY_FORMAT = ('jpeg', 'png', 'png_grey', 'png_rgba', 'png_palette', 'png16', 'bmp', 'gif')


def _mixed(root):
  folders = image_folders.write_folder(root, {'big cat': 40, 'dog': 60}, kinds=EVERY_FORMAT)
  (folders['dog'] / 'upper.JPEG').write_bytes(image_folders.encoded(7, 'jpeg'))
  (folders['dog'] / 'short.jpe').write_bytes(image_folders.encoded(8, 'jpeg'))
  broken = image_folders.add_broken(folders['dog'])
  clutter = image_folders.add_clutter(root, folders['big cat'])
  return broken, clutter


def test_init_on_a_mixed_folder_writes_a_definition_the_pre_check_accepts(tmp_path):
  broken, clutter = _mixed(tmp_path / 'images')
  lines = []
  path = init.init_images(str(tmp_path / 'images'), str(tmp_path / 'pets'), say=lines.append)
  text = '\n'.join(lines)
  dataset = datadefs.load(str(path.parent))
  assert dataset.kind == 'image' and dataset.label.classes == ('big cat', 'dog')
  assert dataset.image.augmentation.rotation > 0
  assert not dataset.image.augmentation.horizontal_flip
  # Majority class 'dog', 62 of 102 good images.
  assert dataset.blessing_threshold > 62 / 102
  assert 'big cat  40' in text and 'dog      62' in text
  assert 'formats: bmp 12, gif 12, jpeg 15, png 63' in text
  assert 'sizes: 16x12 to 16x12 pixels' in text
  for path_ in list(broken.values()) + list(clutter.values()):
    assert str(path_) in text
  # The folder's 3 broken files of 105 are over the default 1%: the definition allows them,
  # and says so, so the run leaves them out instead of refusing the folder.
  assert dataset.image.max_broken_fraction >= 3 / 105
  assert 'raised from 0.01' in path.read_text()
  assert precheck.check_data_root(str(tmp_path / 'images'), dataset) == 3
  schema = tfdv.load_schema_text(dataset.schema_path)
  assert list(tfdv.get_domain(schema, spec.RAW_LABEL).value) == ['big cat', 'dog']
  assert tfdv.get_feature(schema, spec.RAW_IMAGE).HasField('image_domain')


def test_the_bundled_digits_schema_is_the_one_init_writes():
  digits = datadefs.load('digits')
  with open(digits.schema_path, encoding='utf-8') as f:
    assert f.read() == image_schema.schema_text(digits.label.classes)


def test_init_refuses_a_class_folder_with_too_few_images_naming_it(tmp_path):
  image_folders.write_folder(tmp_path / 'images', {'cat': 8, 'dog': 2})
  with pytest.raises(ValueError, match='dog \\(2\\)'):
    init.init_images(str(tmp_path / 'images'), str(tmp_path / 'out'))
  assert not (tmp_path / 'out').exists()


def test_init_refuses_one_class_and_a_missing_folder(tmp_path):
  image_folders.write_folder(tmp_path / 'images', {'cat': 8})
  with pytest.raises(ValueError, match='only one class folder'):
    init.init_images(str(tmp_path / 'images'), str(tmp_path / 'out'))
  with pytest.raises(ValueError, match='does not exist'):
    init.init_images(str(tmp_path / 'nowhere'), str(tmp_path / 'out'))


def test_the_command_line_takes_images_and_grey_folders_get_one_channel(tmp_path, capsys):
  image_folders.write_folder(tmp_path / 'images', {'a': 6, 'b': 6}, kinds=['png_grey'])
  assert cli.main(['dataset', 'init', '--images', str(tmp_path / 'images'),
                   '--out', str(tmp_path / 'letters')]) == 0
  assert 'make run DATASET=' in capsys.readouterr().out
  dataset = datadefs.load(str(tmp_path / 'letters'))
  assert dataset.image.channels == 1 and dataset.image.size == 32
  assert cli.main(['dataset', 'init', '--images', str(tmp_path / 'images'),
                   '--out', str(tmp_path / 'letters')]) == 2
  assert 'exists' in capsys.readouterr().err
  assert cli.main(['dataset', 'init', '--csv', 'x.csv', '--out', str(tmp_path / 'x')]) == 2
  assert '--label' in capsys.readouterr().err
