"""What a start need not import: the ORM half of SQLAlchemy's asyncio extension.

The package `sqlalchemy.ext.asyncio` imports, besides the async engine authmcp uses (`create_async_engine`,
`AsyncEngine`, `AsyncConnection`: SQLAlchemy Core), its ORM sessions, and with them all of `sqlalchemy.orm`:
about a third of SQLAlchemy's import time, and memory the process keeps. `install()` (called by the command
line, before anything imports SQLAlchemy) puts a finder in front of the import system for that one package: it
is made of its `engine` and `result` modules, and the first time anything else is asked of it (a session, or
any name the package has that those two modules do not give), the package's own code runs and every name is
there as usual. Nothing else is changed.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

__all__ = ["install"]

_PACKAGE = "sqlalchemy.ext.asyncio"
# the names the package takes from these two modules, as its own __init__ does
_CORE = {
    "engine": (
        "async_engine_from_config",
        "AsyncConnection",
        "AsyncEngine",
        "AsyncTransaction",
        "create_async_engine",
        "create_async_pool_from_url",
    ),
    "result": ("AsyncMappingResult", "AsyncResult", "AsyncScalarResult", "AsyncTupleResult"),
}


class _CoreFirst(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self) -> None:
        self._package_loader: importlib.abc.Loader | None = None

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _PACKAGE:
            return None
        found = importlib.machinery.PathFinder.find_spec(fullname, path)
        if found is None or found.loader is None or found.submodule_search_locations is None:
            return None  # not a package we know: the import system finds it as usual
        self._package_loader = found.loader
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=found.origin, is_package=True)
        spec.submodule_search_locations = found.submodule_search_locations
        spec.has_location = found.has_location
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        package_loader = self._package_loader
        assert package_loader is not None
        try:
            for submodule, names in _CORE.items():
                imported = importlib.import_module(f"{_PACKAGE}.{submodule}")
                for name in names:
                    setattr(module, name, getattr(imported, name))
        except (ImportError, AttributeError):  # a SQLAlchemy laid out otherwise: its package as it is
            package_loader.exec_module(module)
            return

        def rest_of_the_package(name: str) -> Any:
            del module.__dict__["__getattr__"]
            package_loader.exec_module(module)  # the package's own __init__: sessions, the ORM
            try:
                return module.__dict__[name]
            except KeyError:
                raise AttributeError(f"module {_PACKAGE!r} has no attribute {name!r}") from None

        module.__dict__["__getattr__"] = rest_of_the_package


def install() -> None:
    """Import `sqlalchemy.ext.asyncio` without its ORM half, from now on in this process."""
    if _PACKAGE in sys.modules or any(isinstance(finder, _CoreFirst) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, _CoreFirst())
