"""Checks TensorFlow in an accelerator image's package set (run by tools/check-image-env.sh with
the throwaway venv's python): `check_image_env.py gpu|tpu`. Prints one line per check and a
verdict; exit 0 when every check passes, 1 on a mismatch, 2 (tpu) when libtpu cannot be checked.

gpu: TensorFlow's build (CUDA 12.3, cuDNN 8) against the nvidia-* wheels of requirements-gpu.lock,
and TensorFlow's own loader (tsl DsoLoader, called through ctypes) opening each CUDA library from
those wheels, as the GPU image runs it: infra/Dockerfile registers the wheels' lib folders with
the dynamic linker (ld.so.conf.d), emulated here by LD_LIBRARY_PATH. No GPU driver here, so
TensorFlow must list zero GPUs without any library load error. A second run without that
registration shows what TensorFlow finds on its own (why the image registers them).
"""

import ctypes
import glob
import importlib.metadata as metadata
import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SITE = Path(sysconfig.get_paths()['purelib'])
NVIDIA = SITE / 'nvidia'
# TensorFlow's loader entry points (libtensorflow_framework.so.2) -> the libraries they open.
LOADERS = {
    'TryDlopenCUDALibraries': ('libcudart', 'libcublas', 'libcublasLt', 'libcufft',
                               'libcusolver', 'libcusparse', 'libcudnn'),
    'GetNcclDsoHandle': ('libnccl',),  # MirroredStrategy's all-reduce on several GPUs
    'GetCuptiDsoHandle': ('libcupti',),  # the TF profiler (profile_steps)
}
# Not found here on purpose: the driver comes from the host's NVIDIA driver on a GPU machine;
# TensorRT is not part of tensorflow[and-cuda] (TF-TRT stays off).
EXPECTED_MISSING = {'libcuda.so.1': 'the GPU driver (from the host on a GPU machine; none here)',
                    'libnvinfer': 'TensorRT (not in tensorflow[and-cuda]; TF-TRT unused)'}
LOAD_ERROR = re.compile(r"Could not load dynamic library '([^']+)'|Cannot dlopen some GPU lib")


def _lock_pins(path: Path) -> dict:
  pins = {}
  for line in path.read_text().splitlines():
    match = re.match(r'^([A-Za-z0-9._-]+)==(\S+)', line)
    if match:
      pins[match.group(1).lower()] = match.group(2)
  return pins


def _version(name: str) -> str:
  try:
    return metadata.version(name)
  except metadata.PackageNotFoundError:
    return 'MISSING'


def _mapped() -> list:
  """The CUDA libraries (and their paths) mapped into this process."""
  with open('/proc/self/maps', encoding='utf-8') as maps:
    return sorted({line.split()[-1] for line in maps
                   if re.search(r'/lib(cu|nccl|nv)[^/]*\.so', line)})


def probe_gpu() -> dict:
  """Child process: TF's build info, its loader's results, what got mapped, the GPUs."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  result = {'version': tf.__version__, 'build': dict(tf.sysconfig.get_build_info())}
  framework = ctypes.CDLL(str(Path(tf.__file__).parent / 'libtensorflow_framework.so.2'))
  result['loaders'] = {}
  for name in LOADERS:
    symbol = f'_ZN3tsl8internal9DsoLoader{len(name)}{name}Ev'
    function = getattr(framework, symbol)
    function.restype, function.argtypes = None, [ctypes.c_void_p]
    returned = (ctypes.c_uint64 * 4)()  # absl::Status(Or) returned through a hidden pointer
    function(ctypes.byref(returned))
    result['loaders'][name] = returned[0] == 0  # this absl's OK status is all-zero
  result['loaded'] = _mapped()
  # Every library of the wheels, by path: its own dependencies must resolve too.
  result['cdll_errors'] = {}
  for path in sorted(glob.glob(str(NVIDIA / '*' / 'lib' / 'lib*.so*'))):
    try:
      ctypes.CDLL(path)
    except OSError as error:
      result['cdll_errors'][Path(path).name] = str(error)
  result['mapped'] = _mapped()
  result['gpus'] = [d.name for d in tf.config.list_physical_devices('GPU')]
  return result


def run_probe(accelerator: str, lib_path: str) -> tuple:
  env = dict(os.environ)
  env.pop('LD_LIBRARY_PATH', None)
  if lib_path:
    env['LD_LIBRARY_PATH'] = lib_path
  done = subprocess.run([sys.executable, __file__, '--probe', accelerator], env=env,
                        capture_output=True, text=True, timeout=900, check=False)
  if done.returncode != 0 or not done.stdout.strip():
    sys.exit(f'check-image-env: the TensorFlow probe failed (exit {done.returncode}):\n'
             f'{done.stderr[-4000:]}')
  return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


class Report:
  def __init__(self):
    self.failed = []

  def check(self, ok: bool, text: str):
    print(f'  [{"ok" if ok else "FAIL"}] {text}')
    if not ok:
      self.failed.append(text)


def load_errors(logs: str) -> list:
  return list(dict.fromkeys(m.group(1) or m.group(0) for m in LOAD_ERROR.finditer(logs)))


def unexpected(errors) -> list:
  return [e for e in errors if not any(e.startswith(known) for known in EXPECTED_MISSING)]


def check_gpu() -> int:
  report = Report()
  print(f'check-image-env: gpu: {sys.prefix} (requirements.lock + requirements-gpu.lock)')
  pins = _lock_pins(REPO / 'requirements-gpu.lock')
  installed = {name: _version(name) for name in pins}
  wheels = ', '.join(f'{name.replace("nvidia-", "").replace("-cu12", "")} {version}'
                     for name, version in sorted(installed.items()))
  report.check(installed == pins, f'{len(pins)} nvidia wheels at the GPU lock versions: {wheels}')
  lib_dirs = sorted(str(Path(p).parent) for p in glob.glob(str(NVIDIA / '*' / 'lib' / '*.so*')))
  lib_path = ':'.join(dict.fromkeys(lib_dirs))
  result, logs = run_probe('gpu', lib_path)
  build = result['build']
  report.check(result['version'] == '2.16.2', f"tensorflow {result['version']}")
  report.check(build.get('is_cuda_build') and build.get('cuda_version') == '12.3' and
               build.get('cudnn_version') == '8',
               f"tf.sysconfig.get_build_info(): cuda_version {build.get('cuda_version')}, "
               f"cudnn_version {build.get('cudnn_version')}, compute capabilities "
               f"{build.get('cuda_compute_capabilities')}")
  report.check(installed.get('nvidia-cuda-runtime-cu12', '').startswith('12.3.') and
               installed.get('nvidia-cudnn-cu12', '').startswith('8.9.'),
               'the wheels match that build: CUDA runtime 12.3.x, cuDNN 8.9.x')
  opened = re.findall(r'Successfully opened dynamic library (\S+)', logs)
  for loader, libraries in LOADERS.items():
    from_wheels = {lib: [p for p in result['loaded'] if Path(p).name.startswith(lib + '.so')]
                   for lib in libraries}
    ok = result['loaders'][loader] and all(
        paths and all(p.startswith(str(NVIDIA)) for p in paths) for paths in from_wheels.values())
    report.check(ok, f'TensorFlow loader {loader}: ' + ', '.join(
        f"{lib} <- {', '.join(Path(p).parent.parent.name for p in paths) or 'NOT LOADED'}"
        + ('' if all(p.startswith(str(NVIDIA)) for p in paths) else ' (NOT from the wheels)')
        for lib, paths in from_wheels.items()))
  print(f'       TensorFlow logged "Successfully opened dynamic library" for: '
        f'{", ".join(dict.fromkeys(opened))}')
  files = len(glob.glob(str(NVIDIA / '*' / 'lib' / 'lib*.so*')))
  report.check(files and not result['cdll_errors'], f'every wheel library loads with ctypes.CDLL ('
               f'{files} files)'
               + ''.join(f'\n         {name}: {error}'
                         for name, error in result['cdll_errors'].items()))
  outside = [p for p in result['mapped'] if not p.startswith(str(SITE))]
  report.check(not outside, 'no CUDA library mapped from outside the venv'
               + (f': {outside}' if outside else ''))
  errors = load_errors(logs)
  report.check(not unexpected(errors), 'no unexpected "Could not load dynamic library" / '
               '"Cannot dlopen some GPU libraries" in TensorFlow\'s log'
               + (f': {unexpected(errors)}' if unexpected(errors) else ''))
  for name in sorted(set(errors) - set(unexpected(errors))):
    why = next(text for known, text in EXPECTED_MISSING.items() if name.startswith(known))
    print(f'       expected, not a failure: {name} not found: {why}')
  driver = 'libcuda.so.1' in errors
  report.check(result['gpus'] == [] if driver else True,
               f"tf.config.list_physical_devices('GPU') = {result['gpus']}"
               + (' (no GPU driver on this machine: zero GPUs, not a load failure)'
                  if driver else ''))
  ptxas = NVIDIA / 'cuda_nvcc' / 'bin' / 'ptxas'
  version = subprocess.run([str(ptxas), '--version'], capture_output=True, text=True,
                           check=False).stdout if ptxas.exists() else ''
  report.check('release 12.3' in version, f'XLA\'s ptxas ({ptxas.relative_to(SITE)}): '
               + (version.strip().splitlines() or ['missing'])[-2 if version else 0])

  bare, bare_logs = run_probe('gpu', '')
  missed = [lib for libs in LOADERS.values() for lib in libs
            if not any(p.startswith(str(NVIDIA)) and Path(p).name.startswith(lib + '.so')
                       for p in bare['loaded'])]
  host = [p for p in bare['loaded'] if not p.startswith(str(SITE))]
  print('  without the image\'s ld.so.conf.d entry (TensorFlow\'s RUNPATH only), its loader '
        f'misses from the wheels: {missed or "nothing"}'
        + (f'; and maps host libraries instead: {host}' if host else '')
        + (f'; log: {unexpected(load_errors(bare_logs))}' if unexpected(load_errors(bare_logs))
           else ''))
  if report.failed:
    print(f'check-image-env: gpu: MISMATCH: {len(report.failed)} check(s) failed')
    return 1
  print('check-image-env: gpu: OK: TensorFlow 2.16.2 (CUDA 12.3, cuDNN 8) loads the CUDA 12.3 / '
        'cuDNN 8.9 libraries of requirements-gpu.lock; no GPU here, so zero GPUs listed')
  return 0


def check_tpu() -> int:
  from packaging.requirements import Requirement  # pylint: disable=import-outside-toplevel
  report = Report()
  print(f'check-image-env: tpu: {sys.prefix} (requirements.lock without tensorflow + '
        'tensorflow-tpu from requirements-tpu.lock; libtpu left out)')
  pins = _lock_pins(REPO / 'requirements-tpu.lock')
  report.check(metadata.version('tensorflow-tpu') == pins['tensorflow-tpu'],
               f"tensorflow-tpu {metadata.version('tensorflow-tpu')} installed")
  report.check(_version('tensorflow') == 'MISSING',
               'tensorflow (the CPU build) is not installed: tensorflow-tpu provides the package')
  met, unmet, missing = [], [], []
  for text in metadata.requires('tensorflow-tpu') or []:
    requirement = Requirement(text)
    if requirement.marker and not requirement.marker.evaluate({'extra': ''}):
      continue
    version = _version(requirement.name)
    if version == 'MISSING':
      missing.append(str(requirement))
    elif requirement.specifier.contains(version, prereleases=True):
      met.append(f'{requirement.name} {version}')
    else:
      unmet.append(f'{requirement} (installed {version})')
  report.check(not unmet, f'tensorflow-tpu\'s {len(met) + len(unmet)} requirements on PyPI '
               'packages are met by requirements.lock'
               + (f': NOT {unmet}' if unmet else f' ({", ".join(met)})'))
  report.check(missing == [f"libtpu=={pins['libtpu']}"],
               f'the only requirement not installed is libtpu: missing {missing}')
  done = subprocess.run([sys.executable, '-c', 'import tensorflow as tf; print(tf.__version__, '
                         'tf.config.list_logical_devices("TPU"))'],
                        capture_output=True, text=True, timeout=600, check=False)
  said = done.stdout.strip() or done.stderr[-500:]
  report.check(done.returncode == 0 and said.startswith('2.16.2'),
               f'import tensorflow (from tensorflow-tpu): version, TPU devices = {said}')
  if report.failed:
    print(f'check-image-env: tpu: MISMATCH: {len(report.failed)} check(s) failed')
    return 1
  print(f"check-image-env: tpu: INCOMPLETE: libtpu=={pins['libtpu']} is only on Google's libtpu "
        'index (https://storage.googleapis.com/libtpu-releases/index.html), not on PyPI, so the '
        'TPU runtime itself cannot be installed or checked here (nor on a machine without a TPU). '
        'Checked: tensorflow-tpu 2.16.2 installs and imports with the locked set.')
  return 2


if __name__ == '__main__':
  if sys.argv[1:2] == ['--probe']:
    print(json.dumps(probe_gpu()))
  elif sys.argv[1:] in (['gpu'], ['tpu']):
    sys.exit(check_gpu() if sys.argv[1] == 'gpu' else check_tpu())
  else:
    sys.exit('usage: check_image_env.py gpu|tpu')
