"""Entry file for the tfx CLI: `tfx pipeline create --engine=vertex
--pipeline_path=kubeflow_v2_runner.py`, then `tfx run create --engine=vertex`.

Compiles the profile named by PROFILE (default vertex-cpu) with the identity in GCP_PROJECT,
GCS_BUCKET, ... (see pipeline/vertex/profiles.py) into build/pipeline-<profile>.json.
"""

import os

from pipeline.vertex import profiles
from pipeline.vertex import commands as vertex_commands
from pipeline.vertex import compiler

_profile = profiles.load_profile(os.environ.get('PROFILE', 'vertex-cpu'), os.environ)
compiler.compile_spec(_profile, vertex_commands.default_spec_path(_profile))
