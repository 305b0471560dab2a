"""The infra lint (tools/lint-infra.sh) passes on infra/ and fails on what it must catch.

Also checks what can be checked of infra/ without Docker, Terraform or GCP: the Dockerfile's
contract with pipeline/vertex/compiler.py, the build context, the package install the image does,
and the Cloud Build step order.
"""

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / 'infra'
SETUP = REPO_ROOT / 'tools' / 'setup-lint-venv.sh'
LINT = REPO_ROOT / 'tools' / 'lint-infra.sh'

# First setup downloads checkov and its dependencies; later runs are a stamp check.
SETUP_TIMEOUT = 1200
LINT_TIMEOUT = 300

BAD_DOCKERFILE = """\
FROM python:latest
RUN apt-get update && apt-get install foo
"""

# A bucket anyone could be granted access to object by object, with no versioning.
INSECURE_TF = """\
resource "google_storage_bucket" "open" {
  name                        = "some-open-bucket"
  location                    = "US"
  uniform_bucket_level_access = false
}
"""

VALID_TF = """\
variable "name" {
  type = string
}
"""

BROKEN_TF = """\
resource "google_storage_bucket" "b" {
  name =
}
"""


def _run(cmd, timeout, cwd=REPO_ROOT):
  return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                        timeout=timeout, check=False)


def _output(result) -> str:
  return result.stdout + result.stderr


@pytest.fixture(scope='module')
def lint_venv():
  result = _run(['bash', SETUP], timeout=SETUP_TIMEOUT)
  assert result.returncode == 0, f'tools/setup-lint-venv.sh failed:\n{_output(result)}'


def lint(*paths, cwd=REPO_ROOT):
  return _run(['bash', LINT, *paths], timeout=LINT_TIMEOUT, cwd=cwd)


@pytest.mark.integration  # lint_venv pip-installs the lint tools on a clean checkout.
def test_infra_passes_lint(lint_venv):
  result = lint()
  out = _output(result)
  assert result.returncode == 0, out
  # Every tool ran on its target, and checkov found nothing (skips are inline, see below).
  assert f'hadolint {INFRA / "Dockerfile"}' in out
  assert f'checkov (dockerfile) {INFRA / "Dockerfile"}' in out
  assert re.search(r'python-hcl2 parse of [1-9]\d* file', out), out
  assert f'checkov (terraform) {INFRA / "terraform"}' in out
  assert len(re.findall(r'Passed checks: [1-9]\d*, Failed checks: 0,', out)) == 2, out
  assert 'lint-infra: all checks passed' in out


@pytest.mark.integration  # lint_venv pip-installs the lint tools on a clean checkout.
def test_bad_dockerfile_fails_hadolint_and_checkov(lint_venv, tmp_path):
  dockerfile = tmp_path / 'Dockerfile'
  dockerfile.write_text(BAD_DOCKERFILE)
  result = lint(dockerfile)
  out = _output(result)
  assert result.returncode != 0, out
  # Each tool fails on its own, so neither one is what makes the lint able to fail.
  assert f'FAILED: hadolint {dockerfile}' in out
  assert f'FAILED: checkov (dockerfile) {dockerfile}' in out
  assert 'DL3007' in out  # hadolint: the latest tag
  assert 'DL3008' in out  # hadolint: unpinned apt package
  assert 'CKV_DOCKER_7' in out  # checkov: the latest tag
  assert 'CKV_DOCKER_3' in out  # checkov: no non-root USER


@pytest.mark.integration  # lint_venv pip-installs the lint tools on a clean checkout.
def test_tf_syntax_error_is_reported_with_its_file_name(lint_venv, tmp_path):
  (tmp_path / 'valid.tf').write_text(VALID_TF)
  broken = tmp_path / 'nested' / 'broken.tf'
  broken.parent.mkdir()
  broken.write_text(BROKEN_TF)
  result = lint(tmp_path)
  out = _output(result)
  assert result.returncode != 0, out
  # checkov alone exits 0 on a file it cannot parse; the python-hcl2 step is what fails.
  assert f'{broken}:2:' in out and 'HCL parse error' in out, out
  assert f'FAILED: python-hcl2 parse: {broken}' in out
  assert 'valid.tf:' not in out


@pytest.mark.integration  # lint_venv pip-installs the lint tools on a clean checkout.
def test_insecure_terraform_fails_checkov(lint_venv, tmp_path):
  tf_file = tmp_path / 'bucket.tf'
  tf_file.write_text(INSECURE_TF)
  result = lint(tf_file)
  out = _output(result)
  assert result.returncode != 0, out
  assert 'HCL parse error' not in out
  assert f'FAILED: checkov (terraform) {tf_file}' in out
  assert 'CKV_GCP_29' in out  # uniform bucket-level access
  assert 'CKV_GCP_114' in out  # public access prevention


@pytest.mark.integration  # lint_venv pip-installs the lint tools on a clean checkout.
def test_paths_it_cannot_lint_fail(lint_venv, tmp_path):
  notes = tmp_path / 'notes.txt'
  notes.write_text('FROM python:latest\n')
  result = lint(tmp_path / 'missing', notes, tmp_path)
  out = _output(result)
  assert result.returncode != 0, out
  assert 'missing: no such file or folder' in out
  # checkov picks Dockerfiles by file name: anything else would pass unscanned.
  assert 'notes.txt: not a Dockerfile' in out
  assert 'no .tf files in this folder' in out


def test_checkov_skips_are_inline_with_a_reason():
  lint_script = LINT.read_text()
  assert '--skip-check' not in lint_script and '--soft-fail' not in lint_script
  skips = []
  for path in sorted(INFRA.rglob('*')):
    if path.is_file():
      for line in path.read_text(errors='replace').splitlines():
        if 'checkov:skip' in line:
          match = re.search(r'#\s*checkov:skip=(CKV2?_[A-Z]+_\d+):(.+)', line)
          assert match, f'{path}: skip without a check id and reason: {line.strip()}'
          assert len(match.group(2).strip()) >= 30, f'{path}: skip reason too short: {line}'
          skips.append(match.group(1))
  assert len(skips) == len(set(skips)), skips


def _dockerfile_instructions():
  """(INSTRUCTION, arguments) of infra/Dockerfile, comments dropped, continuations joined."""
  text = re.sub(r'\\\n', ' ', (INFRA / 'Dockerfile').read_text())
  instructions = []
  for line in text.splitlines():
    line = line.strip()
    if line and not line.startswith('#'):
      keyword, _, rest = line.partition(' ')
      instructions.append((keyword.upper(), ' '.join(rest.split())))
  return instructions


def _lock_version(name: str) -> str:
  return re.search(rf'^{re.escape(name)}==(\S+)$', (REPO_ROOT / 'requirements.lock').read_text(),
                   flags=re.M).group(1)


def test_dockerfile_contract():
  """The image contract, for each way Vertex AI starts the one image: a pipeline task (the
  spec's command, TFX's launcher), a Dataflow worker (no command: the Beam SDK's boot
  ENTRYPOINT, from Beam's SDK image of the locked Beam and this Python) and a prediction server
  (the model's command `python -m serving`, importable in the image)."""
  instructions = _dockerfile_instructions()
  runs = [args for keyword, args in instructions if keyword == 'RUN']
  froms = [args for keyword, args in instructions if keyword == 'FROM']

  beam = f'apache/beam_python3.10_sdk:{_lock_version("apache-beam")}'
  assert froms[0] == f'{beam} AS beam', froms
  assert all(re.match(r'python:3\.10-slim[\w.-]*(@sha256:\w+)?( AS \w+)?$', f)
             for f in froms[1:]), froms
  last_stage = instructions[max(i for i, (k, _) in enumerate(instructions) if k == 'FROM'):]
  assert ('COPY', '--from=beam /opt/apache/beam /opt/apache/beam') in last_stage
  entrypoints = [args for keyword, args in instructions if keyword == 'ENTRYPOINT']
  assert entrypoints == ['["/opt/apache/beam/boot"]'], entrypoints  # exec form, last stage
  assert instructions[-1] == ('ENTRYPOINT', '["/opt/apache/beam/boot"]')
  envs = ' '.join(args for keyword, args in instructions if keyword == 'ENV')
  assert 'TF_USE_LEGACY_KERAS=1' in envs and 'PATH=/opt/venv/bin:$PATH' in envs
  # The task command and the serving command both import in the image's venv.
  assert any('tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor' in run and
             'serving.http_server' in run for run in runs)
  assert any('--no-deps -r /tmp/requirements.lock' in run and '--no-cache-dir' in run
             for run in runs)
  assert any('--no-deps' in run and '/app' in run and 'pip install' in run for run in runs)
  assert all('rm -rf /var/lib/apt/lists/*' in run for run in runs if 'apt-get install' in run)
  # The dependency layer comes before the source copy, so code edits reuse it.
  copies = [(i, args) for i, (keyword, args) in enumerate(instructions) if keyword == 'COPY']
  lock_copy = next(i for i, args in copies if 'requirements.lock' in args)
  source_copy = next(i for i, args in copies if args == '. /app')
  assert lock_copy < source_copy
  # The last USER is an unprivileged numeric id.
  user = [args for keyword, args in instructions if keyword == 'USER'][-1]
  assert re.match(r'[1-9]\d*(:\d+)?$', user) and not user.startswith('0'), user


def test_the_commands_vertex_starts_the_image_with_are_what_the_image_runs():
  """Each task of a compiled spec runs `python -m <TFX launcher>` (replacing the ENTRYPOINT),
  and the serving container is this image with `python -m serving`, which the package
  installs (pyproject.toml) and which serves by Vertex AI's custom-container contract."""
  import tomli  # pylint: disable=import-outside-toplevel
  from pipeline import environment  # pylint: disable=import-outside-toplevel
  from pipeline.vertex import profiles  # pylint: disable=import-outside-toplevel
  from pipeline.vertex import serving  # pylint: disable=import-outside-toplevel
  import datadefs  # pylint: disable=import-outside-toplevel
  profile = profiles.load_profile('vertex-cpu', environment.read(
      {'GCP_PROJECT': 'p', 'GCS_BUCKET': 'acme-taxi', 'PIPELINE_IMAGE': 'r/p/taxi:v1'}))
  container = serving.serving_container(profile, datadefs.load('taxi'))
  assert container.image == profile.pipeline_image  # the image cloudbuild builds and pushes
  assert container.command == ('python', '-m', 'serving')
  include = tomli.loads((REPO_ROOT / 'pyproject.toml').read_text())['tool']['setuptools'][
      'packages']['find']['include']
  assert 'serving*' in include
  assert (REPO_ROOT / 'serving' / '__main__.py').is_file()
  http = (REPO_ROOT / 'serving' / 'http_server.py').read_text()
  for variable in ('AIP_HTTP_PORT', 'AIP_PREDICT_ROUTE', 'AIP_HEALTH_ROUTE', 'AIP_STORAGE_URI'):
    assert variable in http, variable


def test_dockerfile_accelerator_images():
  """One Dockerfile, ACCELERATOR=cpu|gpu|tpu: the GPU image adds the CUDA wheels' lock and tells
  the dynamic linker about them; the TPU image swaps tensorflow for tensorflow-tpu + libtpu."""
  instructions = _dockerfile_instructions()
  runs = [args for keyword, args in instructions if keyword == 'RUN']
  args = [args for keyword, args in instructions if keyword == 'ARG']
  assert args[0] == 'ACCELERATOR=cpu' and args.count('ACCELERATOR') == 2, args
  install = next(run for run in runs if '--no-deps -r /tmp/requirements.lock "$@"' in run)
  assert 'gpu) set -- -r /tmp/requirements-gpu.lock' in install
  assert "sed -i '/^tensorflow==/d' /tmp/requirements.lock" in install
  assert ('-r /tmp/requirements-tpu.lock --find-links '
          'https://storage.googleapis.com/libtpu-releases/index.html') in install
  assert any('/etc/ld.so.conf.d/' in run and 'ldconfig' in run for run in runs)
  assert any('ln -s "$site/libtpu/libtpu.so" /lib/libtpu.so' in run for run in runs)
  # Source at /app (the compiled spec's schema path), but not the working directory.
  workdirs = [args for keyword, args in instructions if keyword == 'WORKDIR']
  assert workdirs == ['/home/app'], workdirs
  tpu_lock = (REPO_ROOT / 'requirements-tpu.lock').read_text()
  assert 'tensorflow-tpu==2.16.2' in tpu_lock and 'libtpu==2.16.0rc0' in tpu_lock
  gpu_lock = (REPO_ROOT / 'requirements-gpu.lock').read_text()
  # cuDNN 8.9 / CUDA 12.3: what tensorflow[and-cuda]==2.16.2 pins (make check-image-env).
  for pin in ('nvidia-cudnn-cu12==8.9.7.29', 'nvidia-cuda-runtime-cu12==12.3.101'):
    assert pin in gpu_lock, pin


def test_gpu_lock_adds_only_packages_the_main_lock_lacks():
  def pins(name):
    text = (REPO_ROOT / name).read_text()
    return dict(re.findall(r'^([A-Za-z0-9._-]+)==(\S+)', text, flags=re.M))
  main, gpu = pins('requirements.lock'), pins('requirements-gpu.lock')
  assert gpu and not set(gpu) & set(main)
  assert all(name.startswith('nvidia-') and name.endswith('-cu12') for name in gpu), gpu


def test_cloudbuild_builds_the_accelerator_images_each_profile_needs():
  from pipeline import environment  # pylint: disable=import-outside-toplevel
  from pipeline.vertex import profiles  # pylint: disable=import-outside-toplevel
  config = yaml.safe_load((INFRA / 'cloudbuild.yaml').read_text())
  by_id = {step['id']: step for step in config['steps']}
  image = '${_REGION}-docker.pkg.dev/${_AR_PROJECT}/${_REPOSITORY}/${_IMAGE}:${_TAG}'

  def branches(step):
    script = re.sub(r'\\\n\s*', ' ', by_id[step]['args'][-1])
    return dict(re.findall(r'^\s*([\w*-]+)\) (.*?);;', script, flags=re.M))

  builds, pushes = branches('build-accelerator'), branches('push-accelerator')
  for name in profiles.PROFILE_NAMES:
    # The names cloudbuild pushes are the ones the profile derives from PIPELINE_IMAGE.
    profile = profiles.load_profile(name, environment.read(
        {'GCP_PROJECT': 'p', 'GCS_BUCKET': 'acme-taxi', 'PIPELINE_IMAGE': image}))
    needed = {pool.accelerator for pool in profile.trainer_pools} - {'cpu'}
    assert len(needed) <= 1, (name, needed)
    if not needed:
      assert name not in builds and name not in pushes, name
      continue
    accelerator = needed.pop()
    tagged = profile.accelerator_image(accelerator)
    assert tagged == image.replace('${_IMAGE}:', f'${{_IMAGE}}-{accelerator}:')
    assert builds[name].split() == ['docker', 'build', '--file=infra/Dockerfile',
                                    f'--build-arg=ACCELERATOR={accelerator}', f'--tag={tagged}',
                                    '.'], builds[name]
    assert pushes[name].split() == ['docker', 'push', tagged]
    for step in ('compile', 'deploy'):
      assert f'PIPELINE_IMAGE_{accelerator.upper()}={tagged}' in by_id[step]['env']
  assert 'DOCKER_BUILDKIT=1' in by_id['build-accelerator']['env']


def _dockerignore_patterns():
  lines = (INFRA / 'Dockerfile.dockerignore').read_text().splitlines()
  return [line.strip() for line in lines if line.strip() and not line.startswith('#')]


def _ignored(relative: str, patterns) -> bool:
  for pattern in patterns:
    if pattern.startswith('**/'):
      if fnmatch.fnmatch(Path(relative).name, pattern[3:]):
        return True
    elif fnmatch.fnmatch(relative, pattern):
      return True
  return False


def test_dockerignore_keeps_local_state_out_of_the_context():
  patterns = _dockerignore_patterns()
  for path in ('.git', '.venv', '.venv-lint', 'pipeline_home', 'build', 'bench/data'):
    assert _ignored(path, patterns), path
  for path in ('datadefs/taxi/schema.pbtxt', 'datadefs/penguins/dataset.toml', 'requirements.lock', 'pyproject.toml',
               'trainer/task.py'):
    assert not _ignored(path, patterns), path


@pytest.mark.integration  # A pip install.
def test_image_install_has_the_component_modules_and_schema(tmp_path):
  """Does what the Dockerfile's last RUN does (pip install --no-deps /app), into a folder."""
  patterns = _dockerignore_patterns()

  def ignore(folder, names):
    relative = Path(folder).relative_to(REPO_ROOT)
    return {name for name in names if _ignored((relative / name).as_posix(), patterns)}

  app = tmp_path / 'app'
  shutil.copytree(REPO_ROOT, app, ignore=ignore, symlinks=True)
  assert (app / 'datadefs' / 'taxi' / 'schema.pbtxt').is_file()

  site = tmp_path / 'site'
  result = _run([sys.executable, '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check',
                 '--no-deps', '--no-build-isolation', '--no-cache-dir', '--target', site, app],
                timeout=300, cwd=tmp_path)
  assert result.returncode == 0, _output(result)

  modules = ['transform.preprocessing', 'trainer.task', 'components.anomalies_gate',
             'pipeline.vertex.compiler', 'datadefs.definition', 'core.names', 'runs.summary']
  probe = ('import importlib.util, sys\n'
           'for name in sys.argv[1:]:\n'
           '  print(importlib.util.find_spec(name).origin)\n')
  # Only the installed folder on the path: not the checkout, not the editable install.
  env = dict(os.environ, PYTHONPATH=str(site))
  result = subprocess.run([sys.executable, '-c', probe, *modules], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
  assert result.returncode == 0, _output(result)
  origins = result.stdout.split()
  assert len(origins) == len(modules)
  for origin in origins:
    assert Path(origin).is_relative_to(site), origins
  assert (site / 'datadefs' / 'taxi' / 'schema.pbtxt').is_file()
  assert (site / 'datadefs' / 'penguins' / 'dataset.toml').is_file()


def test_cloudbuild_runs_test_build_push_compile_deploy_in_order():
  config = yaml.safe_load((INFRA / 'cloudbuild.yaml').read_text())
  steps = config['steps']
  ids = [step['id'] for step in steps]
  assert ids == ['check-substitutions', 'test', 'build', 'push', 'build-accelerator',
                 'push-accelerator', 'compile', 'deploy']
  for name in ('_REGION', '_AR_PROJECT', '_REPOSITORY', '_TAG', '_PROFILE'):
    assert name in config['substitutions'], name

  def text(step):
    return ' '.join([step.get('entrypoint', ''), *step.get('args', [])])

  by_id = {step['id']: step for step in steps}
  assert 'make test' in text(by_id['test'])
  image = '${_REGION}-docker.pkg.dev/${_AR_PROJECT}/${_REPOSITORY}/${_IMAGE}:${_TAG}'
  assert '--file=infra/Dockerfile' in by_id['build']['args']
  assert f'--tag={image}' in by_id['build']['args']
  assert 'DOCKER_BUILDKIT=1' in by_id['build']['env']  # honours Dockerfile.dockerignore
  assert by_id['push']['args'] == ['push', image]
  assert text(by_id['compile']) == 'make compile PROFILE=${_PROFILE}'
  assert f'PIPELINE_IMAGE={image}' in by_id['compile']['env']
  deploy = text(by_id['deploy'])
  assert '.venv/bin/python -m pipeline submit --profile "${_PROFILE}"' in deploy
  assert '.venv/bin/python -m pipeline schedule create --profile "${_PROFILE}"' in deploy
  # Shell variables would need $$ in Cloud Build: the scripts use substitutions only.
  for step in steps:
    for arg in step.get('args', []):
      assert not re.search(r'\$(?!\{_?[A-Z_]+\})', arg), (step['id'], arg)
