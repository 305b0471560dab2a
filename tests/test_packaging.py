"""Packaging: pyproject.toml's dependencies name every distribution the product's code imports
(so `pip install .` brings what the code needs), every product package is installed, and no
top-level package is named like a popular package it could shadow."""

import ast
import importlib.metadata
import re
import sys
from typing import Dict, Set

import tomli

from tests.conftest import REPO_ROOT
from tests.test_layers import LAYERS

PACKAGES = [package for layer in LAYERS for package in layer]
# Names of popular distributions' top-level packages a product package must not take: importing
# the product's would hide theirs (Hugging Face's `datasets` was shadowed by this project's once).
_POPULAR = ('datasets', 'transformers', 'tokenizers', 'evaluate', 'accelerate', 'utils', 'tests',
            'test', 'src', 'data', 'models', 'common', 'config', 'tools')


def _name(distribution: str) -> str:
  """A distribution's normalized name (PEP 503)."""
  return re.sub(r'[-_.]+', '-', distribution).lower()


def _declared() -> Set[str]:
  project = tomli.loads((REPO_ROOT / 'pyproject.toml').read_text())['project']
  return {_name(re.split(r'[\[<>=!~; ]', requirement, 1)[0])
          for requirement in project['dependencies']}


def _owners() -> Dict[str, Set[str]]:
  """{module name: the distributions that installed its file}, from their RECORDs (nothing is
  imported: importing tfx to find it would start TensorFlow)."""
  owners: Dict[str, Set[str]] = {}
  for distribution in importlib.metadata.distributions():
    for file in distribution.files or ():
      if file.suffix == '.py' and '..' not in file.parts:
        parts = list(file.with_suffix('').parts)
        if parts[-1] == '__init__':
          parts.pop()
        owners.setdefault('.'.join(parts), set()).add(_name(distribution.metadata['Name']))
  return owners


def _imported_modules() -> Set[str]:
  """Every module the product imports from outside itself and the standard library: `from a
  import b` counts as a.b when b is a module, else as a."""
  found = set()
  for package in PACKAGES:
    for path in (REPO_ROOT / package).rglob('*.py'):
      for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
          found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
          found.update(f'{node.module}.{alias.name}' for alias in node.names)
  return {name for name in found
          if name.split('.')[0] not in PACKAGES and name.split('.')[0] not in
          sys.stdlib_module_names}


def test_every_imported_distribution_is_a_declared_dependency():
  owners, declared, missing = _owners(), _declared(), {}
  for module in sorted(_imported_modules()):
    name = module
    while name and name not in owners:
      name = name.rpartition('.')[0]
    found = owners.get(name)
    if not found:
      missing[module] = 'installed by no distribution'
    elif not found & declared:
      missing[module] = ' or '.join(sorted(found))
  assert not missing, ('imported but not in pyproject.toml dependencies: ' +
                       ', '.join(f'{module} ({owner})' for module, owner in missing.items()))


def test_every_product_package_is_installed_with_the_project():
  include = tomli.loads((REPO_ROOT / 'pyproject.toml').read_text())['tool']['setuptools'][
      'packages']['find']['include']
  for package in PACKAGES:
    assert f'{package}*' in include, package


def test_no_product_package_shadows_a_popular_package():
  assert not set(PACKAGES) & set(_POPULAR), set(PACKAGES) & set(_POPULAR)
