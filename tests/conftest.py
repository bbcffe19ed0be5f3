from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mcp_server.config import Settings, load_settings

pytest_plugins = ["tests.support.fixtures", "tests.support.browser"]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test reads the developer's AUTHMCP_* variables or ./authmcp.toml."""
    for name in list(os.environ):
        if name.startswith("AUTHMCP_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def make_settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(**overrides: Any) -> Settings:
        overrides.setdefault("data_dir", tmp_path / "data")
        overrides.setdefault("user_id", "alice")
        overrides.setdefault("toolkits", [])
        overrides.setdefault("log_level", "WARNING")
        return load_settings(None, **overrides)

    return make
