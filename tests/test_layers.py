"""The product's layers: a lower package never imports a higher one, no two modules import each
other (directly or round a longer circle), and every product module imports. Imports are read
from the source (module level and inside functions alike), so an import deferred for speed
counts as much as any other.

The order, lowest first (a package may import its own layer and the ones below):
"""

import ast
import importlib
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

from tests.conftest import REPO_ROOT

LAYERS: Tuple[Tuple[str, ...], ...] = (
    ('core',),          # names, keys, the pipeline home, file layouts: pure Python
    ('datadefs',),      # dataset definitions, task kinds, data kinds, dataset init
    ('components',),    # TFX components
    ('transform',),     # the preprocessing_fn
    ('trainer',),       # the model, its input and run_fn
    ('serving',),       # a pushed model loaded, answering predictions (image and local engine)
    ('runs',),          # what every engine does around a run: lock, console, summary, report
    ('vertex_local',),  # the local Vertex engine and its Vertex AI API
    ('pipeline',),      # the graph, the settings, the engines, Vertex, the command line
)
ENTRY_FILES = ('local_runner.py', 'kubeflow_v2_runner.py')  # the tfx CLI's, above every layer
__doc__ += '\n'.join(f'  {" ".join(layer)}' for layer in LAYERS)

_LAYER_OF = {package: index for index, layer in enumerate(LAYERS) for package in layer}


def _modules() -> Dict[str, Path]:
  """{dotted module name: file} of every product module."""
  found = {}
  for package in _LAYER_OF:
    for path in sorted((REPO_ROOT / package).rglob('*.py')):
      parts = path.relative_to(REPO_ROOT).with_suffix('').parts
      found['.'.join(parts[:-1] if parts[-1] == '__init__' else parts)] = path
  return found


MODULES = _modules()


def _imports(path: Path, module: str) -> List[Tuple[str, int]]:
  """(product module imported, line) for every import statement in the file."""
  tree = ast.parse(path.read_text(), str(path))
  package = module if path.name == '__init__.py' else module.rpartition('.')[0]
  found = []
  for node in ast.walk(tree):
    names = []
    if isinstance(node, ast.Import):
      names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ''
      if node.level:
        base = '.'.join(package.split('.')[:len(package.split('.')) - node.level + 1] +
                        ([base] if base else []))
      # `from a import b`: b is a module when a module a.b exists, else a name in a.
      names = [f'{base}.{alias.name}' if f'{base}.{alias.name}' in MODULES else base
               for alias in node.names]
    for name in names:
      while name and name not in MODULES:
        name = name.rpartition('.')[0]
      if name and name != module:
        found.append((name, node.lineno))
  return found


def _graph() -> Dict[str, Set[str]]:
  return {module: {name for name, _ in _imports(path, module)}
          for module, path in MODULES.items()}


def test_every_product_module_imports():
  for module in MODULES:
    if not module.endswith('__main__'):  # runs the command line
      importlib.import_module(module)


def test_no_package_imports_a_higher_layer():
  upward = []
  for module, path in MODULES.items():
    layer = _LAYER_OF[module.split('.')[0]]
    for name, line in _imports(path, module):
      if _LAYER_OF[name.split('.')[0]] > layer:
        upward.append(f'{path.relative_to(REPO_ROOT)}:{line} imports {name} '
                      f'(layer {LAYERS[_LAYER_OF[name.split(".")[0]]]} is above '
                      f'{LAYERS[layer]})')
  assert not upward, '\n'.join(upward)


def test_no_modules_import_each_other():
  graph = _graph()
  cycles = _cycles(graph)
  assert not cycles, '\n'.join(' -> '.join(cycle + [cycle[0]]) for cycle in cycles)


def test_entry_files_only_import_product_modules_that_exist():
  for name in ENTRY_FILES:
    imported = [node for node in ast.walk(ast.parse((REPO_ROOT / name).read_text()))
                if isinstance(node, ast.ImportFrom)]
    for node in imported:
      assert node.module.split('.')[0] in _LAYER_OF or node.module in MODULES, node.module


def _cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
  """Each strongly connected set of modules (Tarjan), as one circle of imports through it."""
  index, low, stack, on_stack, found = {}, {}, [], set(), []

  def visit(node, counter=[0]):  # pylint: disable=dangerous-default-value
    index[node] = low[node] = counter[0]
    counter[0] += 1
    stack.append(node)
    on_stack.add(node)
    for target in sorted(graph.get(node, ())):
      if target not in index:
        visit(target)
        low[node] = min(low[node], low[target])
      elif target in on_stack:
        low[node] = min(low[node], index[target])
    if low[node] == index[node]:
      component = []
      while True:
        member = stack.pop()
        on_stack.discard(member)
        component.append(member)
        if member == node:
          break
      if len(component) > 1:
        found.append(_circle(sorted(component), graph))

  for node in sorted(graph):
    if node not in index:
      visit(node)
  return found


def _circle(members: List[str], graph: Dict[str, Set[str]]) -> List[str]:
  """A circle of imports from the first member back to it, within the members."""
  start, path, seen = members[0], [members[0]], {members[0]}
  while True:
    step = next((t for t in sorted(graph[path[-1]]) if t == start and len(path) > 1), None)
    if step:
      return path
    nxt = next((t for t in sorted(graph[path[-1]]) if t in members and t not in seen), None)
    if nxt is None:
      return path
    path.append(nxt)
    seen.add(nxt)


@pytest.mark.parametrize('imported, importer, message', [
    ('pipeline.graph', 'components.x', 'above'),
])
def test_the_check_names_an_upward_import(tmp_path, monkeypatch, imported, importer, message):
  """The test can fail: an upward import in a product module is found and named."""
  del imported
  package, name = importer.split('.')
  (tmp_path / package).mkdir()
  (tmp_path / package / '__init__.py').write_text('')
  (tmp_path / package / f'{name}.py').write_text('from pipeline import graph\n')
  monkeypatch.setitem(MODULES, importer, tmp_path / package / f'{name}.py')
  found = _imports(tmp_path / package / f'{name}.py', importer)
  assert ('pipeline.graph', 1) in found
  assert _LAYER_OF['pipeline'] > _LAYER_OF['components'], message


def test_the_check_finds_a_circle():
  assert _cycles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}) == [['a', 'b', 'c']]
  assert not _cycles({'a': {'b'}, 'b': set()})
