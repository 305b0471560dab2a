"""Fixtures of the image Trainer tests: a small share of the bundled digits, written once."""

import pytest

from datadefs.images import digits
from tests.trainer.images import transformed


@pytest.fixture(scope='session')
def digits_folder(tmp_path_factory):
  """The digits at 64 px (1,797 PNG and JPEG files under one folder per class)."""
  folder = tmp_path_factory.mktemp('digits')
  digits.write_digits(folder, size=64, seed=0)
  return folder


@pytest.fixture(scope='session')
def digit_files(digits_folder):
  """(file, class index) of every digit image."""
  return transformed.image_files(digits_folder)
