"""Running real client code in a child process that has the local Vertex AI's client environment.

Only a child can trust a fresh server's CA: gRPC reads its roots file once per process, and the
test process's gRPC may already trust the session-wide `vertex` fixture's. Children also keep
TensorFlow (imported by TFX) out of the test process.
"""

import json
import os
import subprocess
import sys
import textwrap
from typing import Any, Callable, Dict

import pytest

from vertex_local.api import LocalVertexAI

PROJECT = 'acme-project'
RESULT_MARK = 'RESULT='


@pytest.fixture
def run_client() -> Callable[..., Dict[str, Any]]:
  """run_client(server, script, *args): runs `script` with the server's client environment.

  The script reports by printing one `RESULT=<json>` line; that JSON is returned. A child that
  fails, or prints no result, fails the test with its output.
  """

  def run(server: LocalVertexAI, script: str, *args: str, timeout: float = 240) -> Dict[str, Any]:
    env = {**os.environ, **server.client_environment(), 'TF_CPP_MIN_LOG_LEVEL': '2',
           'PYTHONWARNINGS': 'ignore'}
    done = subprocess.run([sys.executable, '-c', textwrap.dedent(script), *args], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    results = [line[len(RESULT_MARK):] for line in done.stdout.splitlines()
               if line.startswith(RESULT_MARK)]
    assert done.returncode == 0 and results, (
        f'client exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}')
    return json.loads(results[-1])

  return run
