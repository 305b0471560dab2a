"""datadefs/images/manifest.py and `dataset init --manifest`: a CSV in Vertex AI's image
classification import format ([ML_USE,]PATH,LABEL) read as the images of a dataset, bad rows
named by line, gs:// paths refused off Vertex, and a definition the pre-check accepts."""

import pytest

import datadefs
from datadefs.definition import DatasetError
from datadefs.images import init
from datadefs.images import manifest
from pipeline import cli
from runs import precheck
from tests import image_folders


def _images(root, counts, kinds=('png', 'jpeg')):
  """Class folders of images under root; returns [(path relative to root, class)]."""
  folders = image_folders.write_folder(root, counts, kinds=kinds)
  return [(str(path.relative_to(root)), name) for name, folder in folders.items()
          for path in sorted(folder.iterdir())]


def test_rows_with_and_without_ml_use_relative_and_absolute_paths_are_read(tmp_path):
  rows = _images(tmp_path / 'data', {'big cat': 6, 'dog': 6})
  uses = ['training', 'VALIDATION', 'test', '']
  lines = []
  for index, (path, label) in enumerate(rows):
    place = str(tmp_path / 'data' / path) if index % 2 else path
    use = uses[index % len(uses)]
    lines.append(f'{use},"{place}",{label}' if use else f'"{place}",{label}')
  lines.insert(3, '')  # blank lines are skipped
  lines.append(lines[0])  # a repeated row is kept once, and said
  (tmp_path / 'data' / 'images.csv').write_text('\ufeff' + '\r\n'.join(lines) + '\r\n')
  read = manifest.read_manifest(str(tmp_path / 'data' / 'images.csv'), cloud_paths=False)
  assert sorted(read.listing.images) == sorted(
      (str(tmp_path / 'data' / path), label) for path, label in rows)
  assert read.ml_use == {'training': 3, 'validation': 3, 'test': 3}
  assert read.listing.ignored == [f'{tmp_path / "data" / "images.csv"} line 14: repeats line 1']


def test_bad_rows_are_refused_together_each_named_by_its_line(tmp_path):
  image = tmp_path / 'a.png'
  image.write_bytes(image_folders.encoded(1))
  (tmp_path / 'm.csv').write_text('\n'.join([
      'path,label',                           # 1: a header
      f'{image},cat',                         # 2: good
      f'train,{image},cat',                   # 3: not an ML_USE
      f'{image},cat,dog,bird',                # 4: multi-label
      f'{tmp_path / "b.png"},',               # 5: no label
      f'{image},dog',                         # 6: another label for line 2's image
      'gs://bucket/c.png,cat',                # 7: Cloud Storage, off Vertex
      f'{tmp_path / "d.png"}',                # 8: no label at all
      f'{tmp_path / "e.png"},.hidden',        # 9: not a class name
      f'{image},training,cat',                # 10: ML_USE in the wrong place
  ]))
  with pytest.raises(manifest.ManifestError) as error:
    manifest.read_manifest(str(tmp_path / 'm.csv'), cloud_paths=False)
  text = str(error.value)
  assert 'has 9 bad line(s)' in text
  for number, words in [(1, 'header'), (3, "'train' is not an ML_USE"), (4, 'multi-label'),
                        (5, 'empty label'), (6, "'cat' on line 2"),
                        (7, 'read only on Vertex'), (8, 'has no label'),
                        (9, "'.hidden' cannot be a class name"), (10, 'must come first')]:
    assert f'line {number}: ' in text and words in text, (number, words)
  assert '\n  line 2:' not in text


def test_gs_paths_are_kept_where_cloud_paths_are_read(tmp_path):
  (tmp_path / 'm.csv').write_text('training,gs://bucket/cat/1.jpg,cat\ngs://bucket/dog/2.png,dog\n')
  read = manifest.read_manifest(str(tmp_path / 'm.csv'), cloud_paths=True)
  assert read.listing.images == [('gs://bucket/cat/1.jpg', 'cat'), ('gs://bucket/dog/2.png', 'dog')]


def test_init_from_a_manifest_writes_a_definition_whose_data_root_is_the_manifests_folder(
    tmp_path):
  rows = _images(tmp_path / 'data', {'big cat': 30, 'dog': 40})
  folders = {label: tmp_path / 'data' / label for label in ('big cat', 'dog')}
  broken = image_folders.add_broken(folders['dog'])
  rows += [(str(path.relative_to(tmp_path / 'data')), 'dog') for path in broken.values()]
  rows.append(('dog/gone.png', 'dog'))  # listed, not there: named as broken
  image_folders.add_clutter(tmp_path / 'data', folders['big cat'])  # not listed: not read
  (tmp_path / 'data' / 'labels.csv').write_text(
      ''.join(f'{"training" if i % 5 else "test"},{path},{label}\n'
              for i, (path, label) in enumerate(rows)))
  said = []
  path = init.init_manifest(str(tmp_path / 'data' / 'labels.csv'), str(tmp_path / 'pets'),
                            say=said.append)
  text = '\n'.join(said)
  dataset = datadefs.load(str(path.parent))
  assert dataset.image.manifest == 'labels.csv'
  assert dataset.label.classes == ('big cat', 'dog')
  assert 'big cat  30' in text and 'dog      40' in text
  assert 'ML_USE: 59 training, 15 test; read, not followed' in text
  for broken_path in broken.values():
    assert str(broken_path) in text
  assert f'{tmp_path / "data" / "dog" / "gone.png"}: not found' in text
  assert f'DATA_ROOT={tmp_path / "data"}' in text or f"DATA_ROOT='{tmp_path / 'data'}'" in text
  assert '--manifest' in path.read_text()
  # The pre-check reads the manifest, not the class folders: 4 broken of 74 are allowed.
  assert precheck.check_data_root(str(tmp_path / 'data'), dataset) > 0
  (tmp_path / 'data' / 'labels.csv').write_text('gs://bucket/x.png,dog\n')
  with pytest.raises(precheck.DataCheckError, match='line 1: gs://bucket/x.png .*only on Vertex'):
    precheck.check_data_root(str(tmp_path / 'data'), dataset)
  (tmp_path / 'data' / 'labels.csv').unlink()
  with pytest.raises(precheck.DataCheckError, match='labels.csv does not exist'):
    precheck.check_data_root(str(tmp_path / 'data'), dataset)


def test_init_refuses_a_manifest_with_gs_paths_a_missing_file_and_a_thin_class(tmp_path):
  (tmp_path / 'cloud.csv').write_text('gs://bucket/a.png,cat\n')
  with pytest.raises(ValueError, match='line 1: .*Cloud Storage path'):
    init.init_manifest(str(tmp_path / 'cloud.csv'), str(tmp_path / 'out'))
  with pytest.raises(ValueError, match='nowhere.csv does not exist'):
    init.init_manifest(str(tmp_path / 'nowhere.csv'), str(tmp_path / 'out'))
  rows = _images(tmp_path, {'cat': 8, 'dog': 2})
  (tmp_path / 'thin.csv').write_text(''.join(f'{p},{label}\n' for p, label in rows))
  with pytest.raises(ValueError, match="'dog' \\(2\\)"):
    init.init_manifest(str(tmp_path / 'thin.csv'), str(tmp_path / 'out'))
  assert not (tmp_path / 'out').exists()


def test_the_command_line_takes_a_manifest(tmp_path, capsys):
  rows = _images(tmp_path / 'data', {'a': 6, 'b': 6})
  (tmp_path / 'data' / 'm.csv').write_text(''.join(f'{p},{label}\n' for p, label in rows))
  assert cli.main(['dataset', 'init', '--manifest', str(tmp_path / 'data' / 'm.csv'),
                   '--out', str(tmp_path / 'ab')]) == 0
  assert f'DATA_ROOT={tmp_path / "data"}' in capsys.readouterr().out
  (tmp_path / 'data' / 'bad.csv').write_text('x.png\n')
  assert cli.main(['dataset', 'init', '--manifest', str(tmp_path / 'data' / 'bad.csv'),
                   '--out', str(tmp_path / 'bad')]) == 2
  assert 'line 1:' in capsys.readouterr().err


@pytest.mark.parametrize('value', ['/abs/images.csv', 'gs://b/images.csv', 'images.txt'])
def test_the_definition_refuses_a_manifest_that_is_not_a_csv_in_the_data_root(tmp_path, value):
  rows = _images(tmp_path / 'data', {'a': 6, 'b': 6})
  (tmp_path / 'data' / 'm.csv').write_text(''.join(f'{p},{label}\n' for p, label in rows))
  path = init.init_manifest(str(tmp_path / 'data' / 'm.csv'), str(tmp_path / 'ab'),
                            say=lambda _: None)
  path.write_text(path.read_text().replace('manifest = "m.csv"', f'manifest = "{value}"'))
  with pytest.raises(DatasetError, match='image.manifest'):
    datadefs.load(str(path.parent))
