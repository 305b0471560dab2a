"""Every run of a pipeline home, one JSON line each (`<home>/runs.jsonl`), oldest first: what
`finish()` wrote to last_run.json, for every engine and every outcome, a run the pre-check
refused included. last_run.json says what the latest run did; this says what each run did.

Several pipelines may share one home (a dataset each, or one per Vertex profile): per-pipeline
questions, such as the latest model pushed, read only that pipeline's runs.
"""

import json
from typing import Iterator, List, Optional

from core.home import PipelineHome


def append(home: PipelineHome, summary_json: dict) -> None:
  """Adds a run. One write of one line in append mode: a concurrent reader sees whole lines."""
  home.root.mkdir(parents=True, exist_ok=True)
  line = json.dumps(summary_json, sort_keys=True) + '\n'
  with open(home.history, 'a', encoding='utf-8') as f:
    f.write(line)


def runs(home: PipelineHome) -> List[dict]:
  """Every recorded run, oldest first (a line that does not parse, say a run killed while
  writing it, is left out)."""
  return list(_read(home))


def _read(home: PipelineHome) -> Iterator[dict]:
  try:
    with open(home.history, encoding='utf-8') as f:
      lines = f.readlines()
  except FileNotFoundError:
    return
  for line in lines:
    try:
      run = json.loads(line)
    except json.JSONDecodeError:
      continue
    if isinstance(run, dict):
      yield run


def latest_pushed_model(home: PipelineHome, pipeline: Optional[str]) -> Optional[str]:
  """The model the latest run of `pipeline` that pushed one pushed (None: none has)."""
  for run in reversed(runs(home)):
    if run.get('pipeline') == pipeline and run.get('pushed_model'):
      return run['pushed_model']
  return None
