"""Benchmarks of the trainer input pipeline (`python -m bench.input_pipeline`, `make bench`)."""

import os

# The model and TFX's reader are Keras 2 (tf_keras); this must be set before TensorFlow is
# first imported, so the package sets it on import like `trainer` and `transform` do.
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')


def write_results(path, result) -> None:
  """Writes a benchmark's result as indented JSON to `path` (a pathlib.Path) and prints it."""
  import json  # pylint: disable=import-outside-toplevel
  path.parent.mkdir(parents=True, exist_ok=True)
  text = json.dumps(result, indent=2)
  path.write_text(text + '\n')
  print(text)


_MEASURE = ('import resource, subprocess, sys\n'
            'code = subprocess.run(sys.argv[1:], stdout=sys.stderr).returncode\n'
            'print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n'
            'sys.exit(code)\n')


def run_measured(command, cwd, env):
  """Runs `command`; returns (CompletedProcess of a wrapper, whose stderr holds the command's
  output, and the peak RSS in GiB of the largest process it ran). A wrapper process per run,
  so each measure is that run's alone."""
  import subprocess  # pylint: disable=import-outside-toplevel
  import sys  # pylint: disable=import-outside-toplevel
  result = subprocess.run([sys.executable, '-c', _MEASURE, *command], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
  lines = result.stdout.split()
  peak_kib = int(lines[-1]) if lines and lines[-1].isdigit() else 0
  return result, round(peak_kib / 2**20, 2)
