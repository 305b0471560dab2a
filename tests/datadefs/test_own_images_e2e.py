"""Bringing your own folder of images, end to end, with no code written: a folder of mixed
formats (JPEG spelled .JPG and .jpeg, PNG grey/RGBA/palette/16-bit, BMP, GIF), class names
with spaces, a few broken files and clutter. `dataset init --images` then `python -m pipeline
run` with DATASET and DATA_ROOT succeed; the broken files are named, left out, and counted in
the console, last_run.json and the report; the clutter is said as ignored. (A manifest's whole
run was measured once, docs/data.md; to keep `make test` under 20 minutes its parts are tested
apart: tests/datadefs/test_image_manifest.py, tests/components/test_image_example_gen.py,
tests/pipeline/vertex/test_compile_images.py.)

What init itself says of such a folder is tested in tests/datadefs/test_image_init.py, the
ExampleGen's counts in tests/components/test_image_example_gen.py: this is the whole run."""

from pathlib import Path

import pytest

import datadefs
from tests import image_folders
from tests.conftest import read_last_run, run_cli

pytestmark = pytest.mark.e2e

KINDS = ('jpeg', 'png', 'png_grey', 'png_rgba', 'png_palette', 'png16', 'bmp', 'gif')
# Bright and dark images: two classes a few training steps tell apart, in every format.
CLASSES = {'big cat': (170, 256), 'small dog': (0, 86)}
PER_CLASS = 24
TRAIN_STEPS = 40


def _write_folder(root: Path):
  """Class folders of mixed formats; returns (broken files, clutter files)."""
  seed = 0
  for name, (low, high) in CLASSES.items():
    folder = root / name
    folder.mkdir(parents=True)
    for index in range(PER_CLASS):
      kind = KINDS[index % len(KINDS)]
      suffix = image_folders.SUFFIX[kind]
      if kind == 'jpeg' and index % 2:
        suffix = '.jpeg'
      (folder / f'photo {index:02d}{suffix}').write_bytes(
          image_folders.encoded(seed, kind, height=24, width=32, low=low, high=high))
      seed += 1
  broken = image_folders.add_broken(root / 'small dog')
  clutter = image_folders.add_clutter(root, root / 'big cat')
  (root / 'small dog' / '.DS_Store').write_text('clutter')
  clutter['ds_store_dog'] = root / 'small dog' / '.DS_Store'
  return broken, clutter


@pytest.fixture(scope='module')
def own_images(tmp_path_factory):
  work = tmp_path_factory.mktemp('own-images')
  images = work / 'my photos'
  broken, clutter = _write_folder(images)
  init = run_cli(['dataset', 'init', '--images', str(images), '--out', str(work / 'pets')],
                 work / 'home')
  run = run_cli(['run'], work / 'home', data_root=images, train_steps=TRAIN_STEPS,
                extra_env={'DATASET': str(work / 'pets')})
  summary = read_last_run(work / 'home') if (work / 'home' / 'last_run.json').is_file() else {}
  return {'init': init, 'run': run, 'summary': summary, 'broken': broken, 'clutter': clutter,
          'work': work}


def test_init_writes_a_definition_naming_the_broken_files(own_images):
  init = own_images['init']
  assert init.returncode == 0, init.stdout + init.stderr
  for path in own_images['broken'].values():
    assert str(path) in init.stdout
  dataset = datadefs.load(str(own_images['work'] / 'pets'))
  assert dataset.label.classes == tuple(sorted(CLASSES))


def test_the_run_succeeds_leaving_the_broken_files_out_and_counting_them(own_images):
  run, summary = own_images['run'], own_images['summary']
  assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-5000:]
  assert summary['status'] == 'succeeded', summary
  quality = summary['data_quality']
  broken = own_images['broken']
  assert quality['files_left_out'] == len(broken)
  assert sorted(line.split(': ')[0] for line in quality['broken_files']) == sorted(
      str(path) for path in broken.values())
  # Every good image is an example; none of the clutter is.
  assert quality['rows'] == PER_CLASS * len(CLASSES)
  assert quality['files_ignored'] == len(own_images['clutter'])
  assert f'left out {len(broken)} broken file(s)' in run.stdout
  for path in broken.values():
    assert str(path) in run.stdout
  report = Path(summary['report']).read_text()
  for path in broken.values():
    assert str(path) in report


def test_the_model_from_the_mixed_folder_is_pushed(own_images):
  summary = own_images['summary']
  assert summary['blessed'] is True, summary.get('metrics')
  assert Path(summary['pushed_model'], 'saved_model.pb').is_file()


def test_init_measured_the_naive_baseline_on_the_runs_own_eval_split(own_images):
  """Init splits by content hash as the ExampleGen does: its eval part is the run's eval
  split, image for image in count; the model is judged against that naive score."""
  scores = datadefs.load(str(own_images['work'] / 'pets')).baseline
  summary = own_images['summary']
  assert scores.gbm is None and scores.rows == PER_CLASS * len(CLASSES)
  assert scores.eval_rows == summary['metrics']['example_count']
  assert summary['baseline']['naive'] == scores.naive
  assert summary['metrics']['sparse_categorical_accuracy'] > scores.naive
  assert f'naive baseline {scores.naive:.4f}, default gradient-boosted model not fit' in (
      own_images['run'].stdout)

