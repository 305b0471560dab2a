"""The report's account of the files an ExampleGen of files (images) did not use: those it left
out as broken, each with why, and those it ignored (hidden files, clutter), from its
`data_quality` property (core/data_quality.py)."""

import html
from typing import Any, Mapping, Optional

LISTED = 200  # files listed on the page, at most; the counts are always whole


def files_section(quality: Optional[Mapping[str, Any]]) -> str:
  """HTML for the files left out and ignored; '' when the ExampleGen reads no files."""
  files = (quality or {}).get('files')
  if not isinstance(files, Mapping):
    return ''
  left_out, ignored = files.get('left_out') or [], files.get('ignored') or []
  parts = ['<h3 id="files-left-out">Files left out</h3>']
  if left_out:
    rows = ''.join(f'<tr><td>{html.escape(str(path))}</td><td>{html.escape(str(why))}</td></tr>'
                   for path, why in left_out[:LISTED])
    parts.append(f'<p><b>{len(left_out):,} broken file(s) were left out</b> of training and '
                 'evaluation (each image is decoded once to verify it):</p>'
                 f'<table><tr><th>file</th><th>why</th></tr>{rows}</table>' +
                 (f'<p class="muted">First {LISTED} shown.</p>' if len(left_out) > LISTED
                  else ''))
  else:
    parts.append('<p>No file was broken: every image decoded.</p>')
  if ignored:
    items = ''.join(f'<li>{html.escape(str(path))}</li>' for path in ignored[:LISTED])
    parts.append(f'<p>{len(ignored):,} file(s) were ignored as not images of a class (hidden '
                 f'files, clutter, files beside the class folders):</p><ul>{items}</ul>')
  return ''.join(parts)
