"""Nothing new, nothing done, in about a second: a run compares a fingerprint of what it depends
on with the last successful run of the same pipeline, before TensorFlow or TFX is imported.

What a run depends on: every file under the data folder (path, size, modification time: a new
span folder or a rewritten file changes it), the run's settings, the files its settings name
but hold only by path (the dataset's curated schema, read by content wherever it is), this
project's code and bundled definitions (file contents), and the versions of the libraries that
compute the artifacts. When all are those of the last successful run of the pipeline, running
would only serve every step from the cache and compare the model with itself; instead the run
says so and exits 0. `python -m pipeline run --force` runs anyway.
"""

import hashlib
import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

from core.home import PipelineHome
from runs import history

# The packages whose code and bundled files make the artifacts.
PACKAGES = ('core', 'datadefs', 'components', 'transform', 'trainer', 'runs', 'pipeline')
_CODE_SUFFIXES = ('.py', '.pbtxt', '.toml')
_LIBRARIES = ('tfx', 'tensorflow', 'tensorflow-transform', 'tensorflow-model-analysis',
              'tensorflow-data-validation', 'tfx-bsl', 'apache-beam')


def input_fingerprint(settings_text: str, data_root: str, files: Sequence[str] = ()) -> str:
  """The fingerprint of a run: its settings (as text), its data folder, the contents of
  `files` (e.g. the curated schema), the project's code and the libraries' versions."""
  digest = hashlib.sha256()
  digest.update(settings_text.encode())
  root = Path(data_root)
  for path in sorted(p for p in root.rglob('*') if p.is_file()):
    stat = path.stat()
    digest.update(f'{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n'.encode())
  for name in files:
    digest.update(f'file {name}\0'.encode() + Path(name).read_bytes())
  for package in PACKAGES:
    package_root = Path(importlib.util.find_spec(package).submodule_search_locations[0])
    for path in sorted(package_root.rglob('*')):
      if path.suffix in _CODE_SUFFIXES and '__pycache__' not in path.parts:
        digest.update(f'{package}/{path.relative_to(package_root)}\0'.encode() +
                      path.read_bytes())
  for library in _LIBRARIES:
    digest.update(f'{library}=={importlib.metadata.version(library)}\n'.encode())
  return digest.hexdigest()


def last_success_if_unchanged(home: PipelineHome, pipeline: str,
                              fingerprint: str) -> Optional[Dict[str, Any]]:
  """The summary of the pipeline's latest run, when it succeeded with this fingerprint and the
  store it wrote still exists."""
  mine = [run for run in history.runs(home) if run.get('pipeline') == pipeline]
  if not mine or not home.metadata.exists():
    return None
  latest = mine[-1]
  if latest.get('status') == 'succeeded' and latest.get('input_fingerprint') == fingerprint:
    return latest
  return None
