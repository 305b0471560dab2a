"""Entry file for the tfx CLI: `tfx pipeline create --engine=vertex
--pipeline_path=kubeflow_v2_runner.py`. Compiles the KFP v2 spec (see pipeline/vertex_runner.py)."""

import os

from pipeline import vertex_runner

vertex_runner.compile_spec(vertex_runner.VertexConfig.from_env(),
                           os.environ.get('PIPELINE_SPEC', 'build/pipeline.json'))
