"""datadefs/tabular/model_choice.py: the model `dataset init` proposes, and why."""

import pytest

from datadefs import init
from datadefs.tabular import model_choice

import datadefs


@pytest.mark.parametrize('roles, rows, model, reason', [
    (['numeric'] * 5, 500, 'gradient_boosted_trees', '500 labelled rows (under 20,000)'),
    (['vocabulary', 'integer_id', 'numeric', 'ignored'], 50_000, 'gradient_boosted_trees',
     '2 of 3 features are categorical'),
    (['numeric', 'numeric', 'vocabulary', 'bucketized'], 50_000, 'mlp',
     '50,000 labelled rows, 3 of 4 features numeric'),
])
def test_the_rule(roles, rows, model, reason):
  proposed, why = model_choice.propose(roles, rows)
  assert proposed == model and reason in why


def test_a_sample_of_a_larger_file_says_there_are_more_rows():
  _, why = model_choice.propose(['numeric'], 100_000, sample_is_whole=False)
  assert '100,000 or more labelled rows' in why


def test_init_writes_the_model_with_its_reason_and_says_it(tmp_path):
  path = tmp_path / 'small.csv'
  path.write_text('x,colour,y\n' + ''.join(f'{i * 0.5},{"ab"[i % 2]},{i % 2}\n'
                                           for i in range(40)))
  said = []
  init.init_dataset(str(path), 'y', str(tmp_path / 'small'), say=said.append)
  assert ('model: gradient_boosted_trees (40 labelled rows (under 20,000): trees learn small '
          'tables where a network overfits)') in said
  text = (tmp_path / 'small' / 'dataset.toml').read_text()
  assert 'model = "gradient_boosted_trees"  # proposed by init: 40 labelled rows' in text
  assert datadefs.load(str(tmp_path / 'small')).model == 'gradient_boosted_trees'


def test_the_model_line_goes_before_the_first_table():
  text = model_choice.with_model_line('name = "a"\n\n[label]\ncolumn = "y"\n', 'mlp', 'why')
  assert text == 'name = "a"\nmodel = "mlp"  # proposed by init: why\n\n[label]\ncolumn = "y"\n'
