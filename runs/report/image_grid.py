"""The report's grid of eval images (an image classifier's prediction sample, written by the
Trainer: trainer/images/prediction_grid.py): each image with its true and predicted class,
misclassified ones first and framed in red, embedded as data: URIs (the page's
Content-Security-Policy allows images from data: only, nothing from the network).

Every image is checked to be base64 PNG before it is embedded; one that is not is left out and
counted on the page. Class names are escaped."""

import base64
import binascii
import html
from typing import Any, Mapping, Sequence

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
CSS = """
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(118px,1fr));gap:8px;
margin:8px 0}.grid figure{margin:0;padding:4px;border:2px solid #dde2e7;border-radius:6px;
text-align:center;font-size:11.5px}.grid figure.wrong{border-color:#c0392b;background:#fdecea}
.grid img{width:96px;height:96px;object-fit:contain;image-rendering:pixelated}
.grid figcaption{line-height:1.3}
"""


def _png(text: Any) -> str:
  """`text` when it is base64 of a PNG, else ''."""
  if not isinstance(text, str):
    return ''
  try:
    raw = base64.b64decode(text, validate=True)
  except (binascii.Error, ValueError):
    return ''
  return text if raw.startswith(PNG_SIGNATURE) else ''


def _name(classes: Sequence[str], class_id: Any) -> str:
  if isinstance(class_id, int) and 0 <= class_id < len(classes):
    return str(classes[class_id])
  return str(class_id)


def grid(sample: Mapping[str, Any], classes: Sequence[str] = ()) -> str:
  """HTML of the sample's images; `classes` name the class ids when the sample does not."""
  names = list(sample.get('classes') or classes)
  figures, unreadable = [], 0
  for image in sample.get('images') or []:
    png = _png(image.get('png')) if isinstance(image, Mapping) else ''
    if not png:
      unreadable += 1
      continue
    truth, guess = image.get('label'), image.get('predicted')
    wrong = truth != guess
    confidence = image.get('confidence')
    shown = f' ({confidence:.0%})' if isinstance(confidence, (int, float)) else ''
    true_name, guess_name = html.escape(_name(names, truth)), html.escape(_name(names, guess))
    figures.append(
        f'<figure class="{"wrong" if wrong else "right"}">'
        f'<img src="data:image/png;base64,{png}" alt="true {true_name}, predicted {guess_name}">'
        f'<figcaption>true <b>{true_name}</b><br>predicted <b>{guess_name}</b>{shown}'
        '</figcaption></figure>')
  scanned, wrong_count = sample.get('scanned'), sample.get('misclassified')
  head = ('<h3 id="eval-images">Eval images</h3><p>True and predicted class of '
          f'{len(figures)} eval image(s), misclassified ones first (framed in red)')
  if isinstance(scanned, int) and isinstance(wrong_count, int):
    head += f': {wrong_count:,} of the {scanned:,} predicted were misclassified'
  head += (f'. Drawn from {html.escape(str(sample.get("scope") or "the eval split"))}; the '
           'accuracy per class and the confusion matrix above cover the whole split.</p>')
  note = (f'<p class="muted">{unreadable} image(s) of the sample were not PNG and are not '
          'shown.</p>' if unreadable else '')
  body = f'<div class="grid">{"".join(figures)}</div>' if figures else ''
  return head + body + note
