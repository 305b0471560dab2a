"""Nothing new, nothing done: the Evaluator's blessing of a candidate that is the baseline, and
the Pushers skipping it."""

import os

from tfx.types import standard_artifacts

from components import unchanged_model


def _artifact(cls, uri, artifact_id=None):
  artifact = cls()
  artifact.uri = str(uri)
  if artifact_id is not None:
    artifact.id = artifact_id
  return artifact


def test_candidate_is_baseline_compares_the_model_uris(tmp_path):
  model = _artifact(standard_artifacts.Model, tmp_path / 'm', 7)
  other = _artifact(standard_artifacts.Model, tmp_path / 'n', 8)
  assert unchanged_model.candidate_is_baseline({'model': [model], 'baseline_model': [model]})
  assert not unchanged_model.candidate_is_baseline({'model': [model], 'baseline_model': [other]})
  assert not unchanged_model.candidate_is_baseline({'model': [model]})  # first run: no baseline


def test_unchanged_blessing_is_blessed_marked_and_names_the_model(tmp_path):
  model = _artifact(standard_artifacts.Model, tmp_path / 'm', 7)
  blessing = _artifact(standard_artifacts.ModelBlessing, tmp_path / 'blessing')
  unchanged_model.bless_unchanged({'model': [model], 'baseline_model': [model]},
                                  {'blessing': [blessing]})
  assert blessing.get_int_custom_property('blessed') == 1
  assert unchanged_model.is_unchanged(blessing)
  assert blessing.get_int_custom_property('current_model_id') == 7
  assert blessing.get_int_custom_property('baseline_model_id') == 7
  assert os.path.exists(tmp_path / 'blessing' / 'BLESSED')


def test_pusher_pushes_nothing_for_an_unchanged_model(tmp_path):
  model = _artifact(standard_artifacts.Model, tmp_path / 'm', 7)
  blessing = _artifact(standard_artifacts.ModelBlessing, tmp_path / 'blessing')
  unchanged_model.bless_unchanged({'model': [model], 'baseline_model': [model]},
                                  {'blessing': [blessing]})
  pushed = _artifact(standard_artifacts.PushedModel, tmp_path / 'pushed')
  destination = tmp_path / 'serving'
  executor = unchanged_model.PusherExecutor()
  executor.Do({'model': [model], 'model_blessing': [blessing]}, {'pushed_model': [pushed]},
              {'push_destination': '{"filesystem": {"base_directory": "%s"}}' % destination})
  assert pushed.get_int_custom_property('pushed') == 0
  assert unchanged_model.is_unchanged(pushed)
  assert not destination.exists()

