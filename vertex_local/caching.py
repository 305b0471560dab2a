"""Vertex step caching, emulated: a task whose cache key matches a finished execution reuses
that execution's outputs instead of running.

The key covers what Vertex's covers ("Configure execution caching": the step's inputs, its
output definitions and the component's specification): the component's interface (input and
output definitions), the input artifacts (by name: a re-run upstream task makes new names, a
cached one keeps them), the input parameters after the ExampleGen driver merged span and
fingerprint in (so new data is a new key), and the container spec: image string, command,
arguments and environment variables. "Only the pipelines with the same pipeline name will share
the cache": the pipeline name is part of the key, so another pipeline's execution is never a
hit. The image is hashed as written, so a mutable tag (`:latest`, or no tag) hides a rebuilt
image from the cache: `mutable_image_warning` says so.
"""

import hashlib
import json
import re
from typing import Any, List, Mapping, Optional

from vertex_local.store import StoredArtifact

_DIGEST = re.compile(r'@sha256:[0-9a-f]{64}$')


def cache_key(pipeline_name: str, component: Mapping[str, Any], container: Mapping[str, Any],
              parameters: Mapping[str, Any], inputs: Mapping[str, List[StoredArtifact]]) -> str:
  material = {
      'pipeline': pipeline_name,
      'inputDefinitions': component.get('inputDefinitions', {}),
      'outputDefinitions': component.get('outputDefinitions', {}),
      'container': {key: container.get(key) for key in ('image', 'command', 'args', 'env')},
      'parameters': parameters,
      'inputs': {key: [a.name for a in artifacts] for key, artifacts in inputs.items()},
  }
  text = json.dumps(material, sort_keys=True, default=str)
  return hashlib.sha256(text.encode()).hexdigest()


def mutable_image_warning(image: str) -> Optional[str]:
  """A warning for an image reference that a rebuild can change without changing the spec."""
  if _DIGEST.search(image):
    return None
  name = image.rsplit('/', 1)[-1]
  tag = name.partition(':')[2]
  if tag and tag != 'latest':
    return None
  return (f'image {image} has a mutable tag ({"latest" if tag else "no tag"}): Vertex caches '
          'steps by the image string, so a rebuilt image (say, with a changed schema) would be '
          'served from cache. Tag images by commit (PIPELINE_IMAGE=...:<sha>) or pin a digest')
