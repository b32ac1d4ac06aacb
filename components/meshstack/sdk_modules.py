"""Load only the modules a Pulumi provider SDK package is used for, not all of its siblings.

A generated provider SDK's subpackage `__init__` star-imports every module it holds
(pulumi_gcp 10.2.0 `compute/__init__.py`: 285 modules, `from .address import *` …), and Python
runs a package's `__init__` before it imports any module of it
(https://docs.python.org/3/reference/import.html#submodules). So `gcp.compute.Network` alone
costs every Compute Engine resource class: about 0.7 s and 62 MB here, of which the modules
this package never uses are half.

`load_only("pulumi_gcp.compute", ["network", …])` puts in the package's place (in `sys.modules`
and on its parent) a module that holds the names of those modules, of the package's `_inputs`
(its argument types) and its `outputs`, the same objects the package exports. Any other name
asked of it runs the package's own `__init__` in that module first, so what reads more of the
package (a program of one's own, Pulumi rehydrating a resource reference) gets all of it.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterable
from types import ModuleType

# The modules a generated package exports besides its resources, where it has them: argument
# types (star-imported by the package `__init__`) and output types (imported as a module).
_SHARED = ("_inputs", "outputs")
# Set in a package module that holds only some of its modules.
_PARTIAL = "_meshstack_partial"


def load_only(package: str, modules: Iterable[str]) -> ModuleType:
    """The package, with only `modules` (and its shared types) loaded until more is asked."""
    loaded = sys.modules.get(package)
    # Attributes of Pulumi's lazily loaded module load it: only its __dict__ is read here.
    if loaded is None or not is_partial(loaded):
        if loaded is not None and type(loaded) is ModuleType:
            return loaded  # already loaded whole
        loaded = _partial(package)
    shared = [n for n in _SHARED if importlib.util.find_spec(f"{package}.{n}") is not None]
    for name in (*shared, *modules):
        module = importlib.import_module(f"{package}.{name}")
        # Output types, and a subpackage (`yaml.v2`), are attributes only (the import sets them).
        if name != "outputs" and not hasattr(module, "__path__"):
            loaded.__dict__.update({k: getattr(module, k) for k in _exported(module)})
    return loaded


def is_partial(module: ModuleType) -> bool:
    """Whether the package module holds only some of its modules (none other was asked)."""
    return module.__dict__.get(_PARTIAL, False)


def _exported(module: ModuleType) -> list[str]:
    names = module.__dict__.get("__all__")
    return list(names) if names is not None else [n for n in vars(module) if n[0] != "_"]


def _partial(package: str) -> ModuleType:
    parent, _, child = package.rpartition(".")
    # The finder's own spec: the one in sys.modules may be Pulumi's lazy loader's, whose
    # modules load whole at their first attribute.
    spec = importlib.machinery.PathFinder.find_spec(
        package, importlib.import_module(parent).__path__
    )
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ImportError(f"{package} is not a package")
    module = importlib.util.module_from_spec(spec)  # its __path__, not yet its __init__
    loader = spec.loader

    def rest(name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        if importlib.util.find_spec(f"{package}.{name}") is not None:
            return importlib.import_module(f"{package}.{name}")  # a module: the import sets it
        # Any other name: the whole package, as its `__init__` builds it, in this module.
        del module.__dict__["__getattr__"], module.__dict__[_PARTIAL]
        loader.exec_module(module)
        return getattr(module, name)

    module.__dict__.update({"__getattr__": rest, _PARTIAL: True})
    sys.modules[package] = module
    setattr(importlib.import_module(parent), child, module)
    return module
