"""bench/scale.py: the exponent of time against rows, and which data each size reads."""

import pytest

from bench import scale
from tests.conftest import EMBEDDED_DATA_ROOT


def test_exponent_is_the_slope_between_the_two_largest_sizes():
  runs = {'15000': {'ours': {'seconds': 50.0}}, '150000': {'ours': {'seconds': 100.0}},
          '1500000': {'ours': {'seconds': 800.0}}}
  assert scale.exponent(runs, 'ours') == pytest.approx(0.903, abs=1e-3)  # log10(8)
  assert scale.exponent(runs, 'tfx_example') is None
  runs['1500000']['ours']['seconds'] = 1000.0
  assert scale.exponent(runs, 'ours') == pytest.approx(1.0)


def test_the_smallest_size_is_the_embedded_sample():
  assert scale.data_root(15_000) == EMBEDDED_DATA_ROOT
