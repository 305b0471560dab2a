"""runs/report/image_grid.py and the report's evaluation section: an image classifier's eval
images, misclassified first, embedded as data: URIs, every class name escaped, anything that is
not a PNG left out and counted."""

import base64
import json
import re

import numpy as np

from runs.report import html
from runs.report import image_grid
from runs.report.model_view import EvaluationView
from runs.report.record import Step
from tests.runs.report import fixtures
from tests.runs.report import stores
from trainer import prediction_sample
from trainer.images import prediction_grid


def _png(value: int) -> str:
  return prediction_grid.thumbnail_png(np.full((8, 8, 3), value, np.uint8))


def _sample(classes=('cat', 'dog')):
  return {'kind': prediction_grid.KIND, 'classes': list(classes), 'scanned': 40,
          'misclassified': 1, 'scope': 'all 40 examples of the eval split',
          'images': [{'png': _png(10), 'label': 0, 'predicted': 1, 'confidence': 0.75},
                     {'png': _png(200), 'label': 1, 'predicted': 1, 'confidence': 0.99}]}


def test_the_grid_shows_each_image_with_its_classes_misclassified_first():
  text = image_grid.grid(_sample())
  figures = re.findall(r'<figure class="(\w+)"><img src="data:image/png;base64,([^"]+)"', text)
  assert [kind for kind, _ in figures] == ['wrong', 'right']
  assert [png for _, png in figures] == [_png(10), _png(200)]
  assert 'true <b>cat</b><br>predicted <b>dog</b> (75%)' in text
  assert '1 of the 40 predicted were misclassified' in text


def test_class_names_are_escaped_and_what_is_not_a_png_is_left_out_and_counted():
  sample = _sample(classes=('<script>x</script>', 'dog'))
  sample['images'] += [{'png': base64.b64encode(b'<svg onload=alert(1)>').decode(), 'label': 0,
                        'predicted': 0},
                       {'png': '" onerror="alert(1)', 'label': 0, 'predicted': 0}]
  text = image_grid.grid(sample)
  assert '<script' not in text and '&lt;script&gt;' in text
  assert text.count('<figure') == 2
  assert '2 image(s) of the sample were not PNG and are not shown' in text
  assert 'onerror' not in text


def test_the_page_embeds_the_grid_and_still_requests_nothing():
  page = html.Page(summary=fixtures.summary(), facts=[('status', 'succeeded')],
                   steps=[Step('Trainer', 'ran', 30.0)], image_grid=image_grid.grid(_sample()),
                   evaluation=EvaluationView([], {}, [], True, None, []))
  text = html.render(page)
  assert text.count('src="data:image/png;base64,') == 2
  assert 'img-src data:' in text  # the Content-Security-Policy allows data: images only
  assert not re.search(r'(?:src|href)\s*=\s*["\']?\s*(?:https?:)?//', text)


def test_the_report_shows_the_trainers_image_sample(home, uris):
  (uris['model_run'] / prediction_sample.FILE).write_text(json.dumps(_sample()))
  stores.mlmd_home(home, uris)
  text = stores.write_report(fixtures.summary(), home).read_text()
  evaluation = text[text.index('<section id="evaluation">'):]
  assert 'id="eval-images"' in evaluation
  assert evaluation.count('src="data:image/png;base64,') == 2
  assert 'predicted vs actual' not in evaluation  # a regression's plots, not a classifier's
