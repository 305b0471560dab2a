"""core/custom_ops.py: a model's custom op library found from its saved_model.pb, and imported
only for a model that uses it."""

import subprocess
import sys

import pytest

from core import custom_ops
from tests.conftest import REPO_ROOT

# Loads a SavedModel in a fresh process: after core/custom_ops.load_for when asked; prints
# whether TF-DF was imported, then loads the model.
_LOAD = '''
import sys
import tensorflow as tf
from core import custom_ops
path, register = sys.argv[1], sys.argv[2] == "1"
print(custom_ops.load_for(path) if register else ())
print("tensorflow_decision_forests" in sys.modules)
tf.saved_model.load(path)
print("loaded")
'''


def _load(path, register: bool):
  return subprocess.run([sys.executable, '-c', _LOAD, str(path), '1' if register else '0'],
                        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.e2e  # trained_trees trains (TF Transform, TF-DF)
def test_the_trees_ops_are_tf_dfs_and_a_network_has_none(trained_trees):
  assert custom_ops.libraries_for(custom_ops.saved_model_ops(str(trained_trees['trees']))) == (
      'tensorflow_decision_forests',)
  assert custom_ops.libraries_for(custom_ops.saved_model_ops(str(trained_trees['network']))) == ()


@pytest.mark.e2e  # trained_trees trains (TF Transform, TF-DF)
def test_trees_load_after_their_ops_are_registered_and_not_before(trained_trees):
  unregistered = _load(trained_trees['trees'], register=False)
  assert unregistered.returncode != 0
  assert "Op type not registered 'SimpleML" in unregistered.stderr, unregistered.stderr[-2000:]
  registered = _load(trained_trees['trees'], register=True)
  assert registered.returncode == 0, registered.stderr[-2000:]
  assert registered.stdout.split('\n')[:3] == ["('tensorflow_decision_forests',)", 'True',
                                               'loaded']


@pytest.mark.e2e  # trained_trees trains (TF Transform, TF-DF)
def test_a_network_loads_without_importing_tf_df(trained_trees):
  result = _load(trained_trees['network'], register=True)
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.split('\n')[:3] == ['()', 'False', 'loaded']


def test_a_folder_without_a_saved_model_needs_nothing(tmp_path):
  assert custom_ops.load_for(str(tmp_path)) == ()
