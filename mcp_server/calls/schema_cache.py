"""Tool schemas kept on disk between starts: deriving every tool's pydantic model and JSON schemas is most of
what a cold start spends on the catalog, and a toolkit's source rarely changes between two starts.

The file (`<data_dir>/cache/tool-schemas.json`) holds, for each tool, the input and output schemas `tools/list`
serves, the caller-facing signature they were derived from, and the key of its toolkit: a digest of the toolkit's
source files and of what else shapes a schema (authmcp's toolkit API and catalog, the versions of Python, pydantic
and the MCP SDK). A tool is taken from the file only when both its toolkit's key and its signature match; anything
else (a changed source, another version, a file that cannot be read or parsed, an entry of the wrong shape) means
its schemas are derived again, exactly as without the file. The file is written only when something was derived,
atomically (a temporary file renamed over it), and never needed: a data dir that cannot be written only means no
cache. It holds declarations only (names, types, descriptions), nothing a user gave.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

__all__ = ["FILE_NAME", "SchemaCache", "ToolkitSchemas"]

logger = logging.getLogger(__name__)

FILE_NAME = "tool-schemas.json"
_FORMAT = 1
Schemas = tuple[dict[str, Any], dict[str, Any] | None]  # input schema, output schema
Derived = TypeVar("Derived")  # what deriving the schemas also gives (the SDK's metadata, which a file cannot hold)


def _sources(module: ModuleType) -> list[Path]:
    """The source files of a toolkit: every .py file of its package, or its one file."""
    file = getattr(module, "__file__", None)
    if file is None:
        return []
    if hasattr(module, "__path__"):
        return sorted(Path(file).parent.rglob("*.py"))
    return [Path(file)]


def _digest(files: list[Path], *extra: str) -> str:
    digest = hashlib.sha256("\0".join(extra).encode())
    for path in files:
        digest.update(str(path.name).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"\0unreadable")
    return digest.hexdigest()


def _environment() -> str:
    """What shapes a schema besides the toolkit itself: authmcp's toolkit API and catalog, and the versions."""
    import pydantic
    import pydantic_core

    here = Path(__file__).parent
    ours = [*sorted((here.parent / "toolkit").glob("*.py")), here / "catalog.py", Path(__file__)]
    from importlib.metadata import version

    return _digest(
        ours, str(_FORMAT), sys.version, pydantic.VERSION, pydantic_core.__version__, version("mcp"), version("authmcp")
    )


class SchemaCache:
    """The schemas read from `path` at construction; `save` writes them back when some were derived."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._environment: str | None = None
        self._tools: dict[str, Any] = self._read()
        self.changed = False

    def _read(self) -> dict[str, Any]:
        try:
            loaded = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:  # unreadable or corrupt: ignored, and replaced at the next save
            logger.debug("tool schema cache %s ignored (%s)", self.path, type(exc).__name__)
            return {}
        if not isinstance(loaded, dict) or loaded.get("format") != _FORMAT or not isinstance(loaded.get("tools"), dict):
            return {}
        tools: dict[str, Any] = loaded["tools"]
        return tools

    def toolkit_key(self, module: ModuleType) -> str:
        if self._environment is None:
            self._environment = _environment()
        return _digest(_sources(module), self._environment, module.__name__)

    def get(self, key: str, name: str, signature: str) -> Schemas | None:
        """The schemas stored for tool `name`, if stored under this toolkit `key` from this `signature`."""
        entry = self._tools.get(name)
        if not isinstance(entry, dict) or entry.get("key") != key or entry.get("signature") != signature:
            return None
        input_schema, output_schema = entry.get("input"), entry.get("output")
        if not isinstance(input_schema, dict) or not (output_schema is None or isinstance(output_schema, dict)):
            return None
        return input_schema, output_schema

    def put(self, key: str, name: str, signature: str, schemas: Schemas) -> None:
        self._tools[name] = {"key": key, "signature": signature, "input": schemas[0], "output": schemas[1]}
        self.changed = True

    def save(self) -> None:
        """Write the file if something was derived; a failure is only logged (the next start derives again)."""
        if not self.changed:
            return
        try:
            text = json.dumps({"format": _FORMAT, "tools": self._tools}, separators=(",", ":"))
        except (TypeError, ValueError) as exc:  # a schema JSON cannot hold: no cache rather than a wrong one
            logger.debug("tool schema cache not written (%s)", type(exc).__name__)
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, temporary = tempfile.mkstemp(prefix=".tool-schemas-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(text)
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as exc:
            logger.debug("tool schema cache not written to %s (%s)", self.path, exc.strerror)
            return
        self.changed = False


class ToolkitSchemas:
    """Where one toolkit's schemas come from: `cache` (if any) under the toolkit's key, else derived and stored."""

    def __init__(self, cache: SchemaCache | None, module: ModuleType) -> None:
        self.cache = cache
        self.key = cache.toolkit_key(module) if cache is not None else ""

    def of(
        self, tool: str, signature: str, derive: Callable[[], tuple[Derived, dict[str, Any], dict[str, Any] | None]]
    ) -> tuple[Derived | None, dict[str, Any], dict[str, Any] | None]:
        """What `derive` gives for tool `tool` with this `signature`: from the cache (then no metadata), else
        derived now (and stored)."""
        if self.cache is not None and (found := self.cache.get(self.key, tool, signature)) is not None:
            return None, *found
        derived, input_schema, output_schema = derive()
        if self.cache is not None:
            self.cache.put(self.key, tool, signature, (input_schema, output_schema))
        return derived, input_schema, output_schema
