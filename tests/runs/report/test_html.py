"""The page (runs/report/html.py): sections, the failure first, escaping, no requests."""

import re

from runs import baseline
from runs.report import html
from runs.report.data_view import AnomalyRow, FeatureView, SplitFeature
from runs.report.record import Step
from tests.runs.report import fixtures


def _page(**overrides):
  values = dict(summary=fixtures.summary(), facts=[('status', 'succeeded')],
                steps=[Step('Trainer', 'ran', 30.0)])
  values.update(overrides)
  return html.Page(**values)


def test_every_section_is_there_with_its_id():
  text = html.render(_page())
  for key, _ in html.SECTIONS:
    assert f'<section id="{key}">' in text
    assert f'href="#{key}"' in text


def test_a_failed_run_shows_its_failure_before_any_section():
  text = html.render(_page(summary=fixtures.summary(
      status='failed', error='AnomaliesGate failed: DataAnomaliesError: <3 anomalies>')))
  failure = text.index('id="failure"')
  assert failure < text.index('<section')
  assert 'DataAnomaliesError: &lt;3 anomalies&gt;' in text


def test_run_values_are_escaped():
  evil = '<script>alert(1)</script>'
  page = _page(
      facts=[('data root', evil)], steps=[Step(evil, 'ran', 1.0)],
      features=[FeatureView(evil, 'categorical', {'train': SplitFeature(1, 0.0, evil)}, [evil])],
      anomalies=[AnomalyRow('train', evil, 'KIND', evil)], validated=True)
  text = html.render(page)
  assert '<script' not in text
  assert text.count('&lt;script&gt;') >= 5


def test_the_page_requests_nothing():
  text = html.render(_page(timeline_svg='<svg></svg>'))
  assert not re.search(r'(?:src|href)\s*=\s*["\']?\s*(?:https?:)?//', text)
  assert "default-src 'none'" in text  # Content-Security-Policy: no request of any kind


def test_sections_say_why_they_are_empty():
  text = html.render(_page(steps=[]))
  assert 'No component ran.' in text
  assert 'Not validated: ExampleValidator did not run.' in text
  assert 'No training logs' in text and 'Not evaluated' in text


def test_the_evaluation_shows_the_model_beside_the_baselines_and_why_not_blessed():
  from runs.report import model_view  # pylint: disable=import-outside-toplevel
  reason = ("not blessed: binary_accuracy 0.6 is worse than the naive baseline's 0.7712 (the "
            "definition's [baseline]); a model worse than the naive baseline is never blessed")
  summary = fixtures.summary(blessed=False, not_blessed_reason=reason, baseline={
      'metric': 'binary_accuracy', 'model': 0.6, 'naive': 0.7712, 'gbm': None})
  view = model_view.evaluation(summary, [], {}, False, None)
  text = html.render(_page(summary=summary, evaluation=view))
  section = text[text.index('Beside the baselines'):]
  assert html.html.escape(reason) in text
  cells = re.findall(r'<td[^>]*>([^<]*)</td>', section)
  assert cells[:6] == ['this model', '0.6000', 'naive baseline', '0.7712',
                       'default gradient-boosted model (scikit-learn)', 'not fit']
  # A baseline measured without a GBM (an image dataset's) says so, here and on the console.
  assert baseline.line(summary['baseline']) == (
      'binary_accuracy: this model 0.6000, naive baseline 0.7712, default gradient-boosted '
      'model not fit')
  assert baseline.line({'metric': 'binary_accuracy', 'model': 0.6}).endswith(
      'naive baseline unknown, default gradient-boosted model unknown')
  plain = html.render(_page(evaluation=view))  # No baseline recorded: no such table.
  assert 'Beside the baselines' not in plain
