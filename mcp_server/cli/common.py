"""What every `authmcp` command shares: its options, logging, loading the settings, and one-line errors."""

from __future__ import annotations

import errno
import logging
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Annotated, TypeVar

import anyio
import typer

from mcp_server.config import CONFIG_ENV, Settings, config_file_path, load_settings
from mcp_server.errors import AuthmcpError, StorageUnavailable

__all__ = [
    "BODY_LOGGERS",
    "ConfigOption",
    "JsonOption",
    "ToolkitOption",
    "configure_logging",
    "fail",
    "load_settings_or_fail",
    "missing_database",
    "read_from",
    "run",
    "shown_database",
    "table",
    "where_from",
]

T = TypeVar("T")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="TOML configuration file (default: $AUTHMCP_CONFIG, else ./authmcp.toml)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ToolkitOption = Annotated[
    list[str] | None, typer.Option("--toolkit", help="A toolkit module or .py file to load; repeatable.")
]


# libraries that log request and response bodies (tool results, tokens, flow ids) below these levels
BODY_LOGGERS = {
    "sse_starlette": logging.INFO,
    "httpcore": logging.INFO,
    # every request's full URL at INFO: a toolkit's query string may hold what the user searched for
    "httpx": logging.WARNING,
    "httpx2": logging.WARNING,
    "httpcore2": logging.INFO,
    "hpack": logging.INFO,
    "authlib": logging.INFO,
    "mcp": logging.INFO,
    "asyncpg": logging.INFO,
    "aiosqlite": logging.INFO,
    "python_multipart": logging.INFO,
    "multipart": logging.INFO,
    "sqlalchemy.engine": logging.WARNING,  # its INFO is every statement with parameters
}


def configure_logging(level: str) -> None:
    # stderr only: in stdio mode stdout carries JSON-RPC and nothing else
    logging.basicConfig(
        stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    if level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)  # its per-start chatter, not ours
    # whatever log_level says, never below the level at which they would print bodies
    for name, floor in BODY_LOGGERS.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLevelName(level)))


def fail(exc: AuthmcpError) -> typer.Exit:
    typer.echo(f"authmcp: {exc}", err=True)
    return typer.Exit(code=2)


def load_settings_or_fail(config: Path | None, *, quiet: bool = False) -> Settings:
    """The settings, or one line and exit 2. `quiet`: a command that prints its own result logs warnings only
    (unless `log_level` is DEBUG)."""
    try:
        settings = load_settings(config)
    except AuthmcpError as exc:
        raise fail(exc) from None
    level = settings.log_level
    quieter = quiet and level != "DEBUG" and logging.getLevelName(level) < logging.WARNING
    configure_logging("WARNING" if quieter else level)
    return settings


def shown_database(settings: Settings) -> str:
    """The database URL as it may be shown: a PostgreSQL password masked."""
    from sqlalchemy.engine import make_url

    return make_url(settings.resolved_database_url()).render_as_string(hide_password=True)


def missing_database(settings: Settings) -> Path | None:
    """The embedded SQLite file when it does not exist yet, else None; one line and exit 2 when its folder cannot
    be made. A command that only reads or removes must not create the database, nor a new encryption key beside
    it: there is nothing in a database that is not there."""
    from mcp_server.vault.engine import sqlite_file

    try:
        path = sqlite_file(settings.resolved_database_url())
    except AuthmcpError as exc:
        raise fail(exc) from None
    return path if path is not None and not path.exists() else None


def where_from(config: Path | None, settings: Settings) -> str | None:
    """Which database a command used, said prominently when no configuration file was found (a line for stderr):
    leaving out `AUTHMCP_CONFIG` must not silently read another, empty database. None when a configuration file
    was found."""
    if config_file_path(config) is not None:
        return None
    return (
        f"authmcp: no configuration file (no --config, no ${CONFIG_ENV}, no ./authmcp.toml), so the defaults, "
        f"the AUTHMCP_* variables and the database {shown_database(settings)}; point at a file with --config "
        f"FILE or {CONFIG_ENV}=FILE."
    )


def read_from(config: Path | None, settings: Settings) -> str:
    """Which configuration file and database a command reads, in one line for stderr (`where_from` when no
    file was found)."""
    return where_from(config, settings) or (
        f"authmcp: configuration {config_file_path(config)}, database {shown_database(settings)}."
    )


def run(fn: Callable[[], Awaitable[T]]) -> T:
    """Run `fn`; what the user can fix (configuration, paths, permissions, the database) is one line, exit 2."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return anyio.run(fn)
    except StorageUnavailable as exc:
        raise fail(AuthmcpError(f"{exc}: check database_url, and that its server is running and reachable.")) from None
    except AuthmcpError as exc:
        raise fail(exc) from None
    except PermissionError as exc:
        raise fail(
            AuthmcpError(f"Permission denied: {exc.filename or exc}. Check the data_dir and file permissions.")
        ) from None
    except OSError as exc:
        # asyncpg's connect raises a plain OSError (ECONNREFUSED...) where the database server cannot be reached
        unreachable = (ConnectionError, TimeoutError, socket.gaierror)
        if isinstance(exc, unreachable) or exc.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH):
            raise fail(
                AuthmcpError(
                    f"The database server cannot be reached ({exc.strerror or exc}): check database_url, and that "
                    f"its server is running."
                )
            ) from None
        where = f" ({exc.filename})" if exc.filename else ""
        raise fail(
            AuthmcpError(f"{exc.strerror or exc}{where}. Check the data_dir and paths in the configuration.")
        ) from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0][:200]
        raise fail(AuthmcpError(f"The database cannot be used ({reason}). Check database_url and data_dir.")) from None


def table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
