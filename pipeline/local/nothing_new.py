"""Nothing new, nothing done, in about a second: `make run` compares a fingerprint of what a run
depends on with the last successful run's, before TensorFlow or TFX is imported.

What a run depends on: every file under the data folder (path, size, modification time: a new
span folder or a rewritten file changes it), the run's settings (LocalConfig), this project's
code and curated schema (file contents), and the versions of the libraries that compute the
artifacts. When all are those of the last successful run, running would only serve every step
from TFX's cache and compare the model with itself; instead the run says so and exits 0.
`python -m pipeline run --force` runs anyway (every step then comes from the cache, and the
Evaluator and Pusher skip the unchanged model: components/unchanged_model.py).
"""

import dataclasses
import hashlib
import importlib.metadata
import importlib.util
import json
from pathlib import Path
from typing import Any, Dict, Optional

from pipeline.local.config import LocalConfig

_PACKAGES = ('components', 'pipeline', 'transform', 'trainer')
_LIBRARIES = ('tfx', 'tensorflow', 'tensorflow-transform', 'tensorflow-model-analysis',
              'tensorflow-data-validation', 'tfx-bsl', 'apache-beam')


def input_fingerprint(config: LocalConfig) -> str:
  digest = hashlib.sha256()
  settings = json.dumps(dataclasses.asdict(config), sort_keys=True, default=str)
  digest.update(settings.encode())
  data_root = Path(config.data_root)
  for path in sorted(p for p in data_root.rglob('*') if p.is_file()):
    stat = path.stat()
    digest.update(f'{path.relative_to(data_root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n'.encode())
  for package in _PACKAGES:
    root = Path(importlib.util.find_spec(package).submodule_search_locations[0])
    for path in sorted(root.rglob('*')):
      if path.suffix in ('.py', '.pbtxt') and '__pycache__' not in path.parts:
        digest.update(f'{package}/{path.relative_to(root)}\0'.encode() + path.read_bytes())
  for library in _LIBRARIES:
    digest.update(f'{library}=={importlib.metadata.version(library)}\n'.encode())
  return digest.hexdigest()


def last_success_if_unchanged(config: LocalConfig, fingerprint: str) -> Optional[Dict[str, Any]]:
  """The last run's summary when it succeeded with this fingerprint and its store still exists."""
  try:
    previous = json.loads(config.last_run_path.read_text())
  except (FileNotFoundError, json.JSONDecodeError):
    return None
  if (previous.get('status') == 'succeeded' and previous.get('input_fingerprint') == fingerprint
      and Path(config.metadata_path).exists()):
    return previous
  return None
