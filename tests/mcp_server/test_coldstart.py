"""Cold start: `authmcp serve` over stdio imports what its first `tools/list` needs, and migrations still run.

Each test launches the real server with the SDK's stdio client and `python -X importtime`, which writes one
line per module to stderr as it is imported; what stderr holds once `tools/list` has answered is what the
start imported.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.server.mcpserver import MCPServer
from sqlalchemy import text

from mcp_server.serving.stdio import after_the_first_tool_list
from mcp_server.vault import Vault
from mcp_server.vault.migrate import HEAD, head_revision
from tests.mcp_server.test_migrations import downgrade_to

pytestmark = pytest.mark.anyio

# Not needed to serve a tool list on SQLite: Alembic (and its templates) run only when the schema changes;
# the PostgreSQL dialect and driver only when configured; authlib and its JOSE library with the first token request;
# SQLAlchemy's ORM never (the async engine is SQLAlchemy Core; see mcp_server/_lazy_imports.py); the `/v1` API with
# its first request (serving/web_app.py).
NOT_AT_START = (
    "alembic",
    "mako",
    "sqlalchemy.dialects.postgresql",
    "asyncpg",
    "authlib",
    "sqlalchemy.orm",
    "mcp_server.web.api",
)
ENV = {"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}  # no AUTHMCP_* settings
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", re.MULTILINE)


async def serve_and_list(tmp_path: Path) -> tuple[int, set[str]]:
    """Start `authmcp serve` (stdio) on `tmp_path`'s data dir; the tools it lists and the modules imported by then."""
    config = tmp_path / "authmcp.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\nlog_level = "WARNING"\nuser_id = "cold"\n')
    params = StdioServerParameters(
        command=sys.executable,
        args=["-X", "importtime", "-m", "mcp_server", "serve", "--port", "0", "--config", str(config)],
        env=ENV,
    )
    with tempfile.TemporaryFile("w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:  # type: ignore[arg-type]
            tools = await client.list_tools()
            errlog.seek(0)
            modules = set(_IMPORTED.findall(errlog.read()))
    return len(tools.tools), modules


def top_level(modules: set[str], name: str) -> bool:
    return any(m == name or m.startswith(f"{name}.") for m in modules)


def stored_revision(tmp_path: Path) -> str | None:
    with sqlite3.connect(tmp_path / "data" / "authmcp.db") as db:
        rows = db.execute("SELECT version_num FROM alembic_version").fetchall()
    return rows[0][0] if rows else None


def test_head_is_alembics_head() -> None:
    # the start compares the stored revision with HEAD without loading Alembic: a new revision must move HEAD
    assert HEAD == head_revision()


async def test_a_start_on_a_current_database_imports_no_migration_tool_driver_or_oauth_client(tmp_path: Path) -> None:
    tools, first = await serve_and_list(tmp_path)  # creates the database: this start migrates
    assert tools > 0
    assert top_level(first, "alembic")  # the migration ran, so Alembic was loaded for it
    assert stored_revision(tmp_path) == HEAD

    tools_again, modules = await serve_and_list(tmp_path)
    assert tools_again == tools
    assert top_level(modules, "sqlalchemy") and top_level(modules, "mcp_server.vault")  # the vault did open
    loaded = [name for name in NOT_AT_START if top_level(modules, name)]
    assert loaded == []


async def test_a_database_at_an_older_revision_is_upgraded_and_then_starts_without_alembic(tmp_path: Path) -> None:
    await serve_and_list(tmp_path)
    engine = Vault.create_engine(f"sqlite:///{tmp_path / 'data' / 'authmcp.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(downgrade_to, "0004")
            assert (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar() == "0004"
    finally:
        await engine.dispose()

    # the start refuses an old schema (it never migrates data by itself); `authmcp db upgrade` brings it to HEAD
    config = tmp_path / "authmcp.toml"
    refused = await anyio.run_process(
        [sys.executable, "-m", "mcp_server", "serve", "--port", "0", "--config", str(config)], check=False, env=ENV
    )
    assert refused.returncode != 0
    assert b"authmcp db upgrade" in refused.stderr
    upgraded = await anyio.run_process(
        [sys.executable, "-m", "mcp_server", "db", "upgrade", "--config", str(config)], env=ENV
    )
    assert upgraded.returncode == 0
    assert stored_revision(tmp_path) == HEAD

    tools, modules = await serve_and_list(tmp_path)
    assert tools > 0
    assert not top_level(modules, "alembic")


def test_the_async_engine_comes_without_the_orm_and_the_rest_of_its_package_on_first_use() -> None:
    # in a process of its own: the command line's import finder, then the package used as SQLAlchemy documents it
    script = """
import sys
import mcp_server.cli
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
assert "sqlalchemy.orm" not in sys.modules, "the ORM was imported with the async engine"
engine = create_async_engine("sqlite+aiosqlite://")
assert isinstance(engine, AsyncEngine)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
assert "sqlalchemy.orm" in sys.modules and isinstance(async_sessionmaker(engine)(), AsyncSession)
import sqlalchemy.ext.asyncio as package
try:
    package.no_such_name
except AttributeError as exc:
    assert "no_such_name" in str(exc)
else:
    raise AssertionError("a missing name was found")
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=ENV, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


async def test_the_background_work_waits_for_the_first_tool_list(tmp_path: Path) -> None:
    # the maintenance pass releases what a dead process left on the data dir: its run file is the visible trace
    await serve_and_list(tmp_path)
    left = tmp_path / "data" / "run" / "4242-deadbeef0000"
    left.write_text("{}")  # no process holds its lock: an instance that ended without cleaning up
    config = tmp_path / "authmcp.toml"
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server", "serve", "--port", "0", "--config", str(config)], env=ENV
    )
    with tempfile.TemporaryFile("w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:  # type: ignore[arg-type]
            assert left.exists()  # the handshake does not start it
            assert len((await client.list_tools()).tools) > 0
            with anyio.fail_after(30):  # the first pass runs once the tool list is answered
                while left.exists():
                    await anyio.sleep(0.05)


def echo_server() -> MCPServer:
    server = MCPServer("echo")

    @server.tool()
    async def echo(text: str) -> str:
        """Return the text."""
        return text

    return server


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_the_background_is_due_once_the_first_tool_list_is_answered(mode: str) -> None:
    server = echo_server()
    builtins = list(server.middleware)  # the SDK's own
    due = after_the_first_tool_list(server)
    assert len(server.middleware) == len(builtins) + 1
    async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
        assert not due.is_set()  # the handshake (initialize, or server/discover) does not start it
        assert [tool.name for tool in (await client.list_tools()).tools] == ["echo"]
        assert due.is_set()
        assert server.middleware == builtins  # the watch has left: later requests do not pass through it
        assert (await client.call_tool("echo", {"text": "hi"})).content[0].text == "hi"  # type: ignore[union-attr]


async def test_a_call_before_any_tool_list_starts_the_background_at_once() -> None:
    server = echo_server()
    due = after_the_first_tool_list(server)
    async with Client(server, mode="legacy") as client:
        assert not due.is_set()
        await client.call_tool("echo", {"text": "hi"})
        assert due.is_set()
