"""`authmcp serve`, `authmcp demo`, and `authmcp keep-pages` (started by a stdio process, never by hand)."""

from __future__ import annotations

import logging
import socket
import sys
from typing import Annotated

import typer

from mcp_server.cli.common import ConfigOption, ToolkitOption, load_settings_or_fail, read_from, run
from mcp_server.config import DEFAULT_HOST, DEFAULT_PORT, config_file_path

__all__ = ["demo", "keep_pages", "serve"]


def serve(
    transport: Annotated[
        str, typer.Option(help="stdio, http (Streamable HTTP at /mcp and SSE at /sse), or sse.")
    ] = "stdio",
    host: Annotated[
        str, typer.Option(help="Interface for HTTP (and, with stdio, the authorization pages).")
    ] = DEFAULT_HOST,
    port: Annotated[
        int, typer.Option(help="Port for HTTP (and, with stdio, the authorization pages); 0 picks one.")
    ] = DEFAULT_PORT,
    config: ConfigOption = None,
    toolkit: ToolkitOption = None,
    stateless: Annotated[bool, typer.Option(help="Streamable HTTP without sessions (for replicas).")] = False,
) -> None:
    """Serve the tools over MCP."""
    from mcp_server.serving.run import serve as run_server

    settings = load_settings_or_fail(config)
    config_file = config_file_path(config)
    try:
        run(
            lambda: run_server(
                settings,
                transport=transport,
                host=host,
                port=port,
                toolkits=toolkit or [],
                stateless=stateless,
                config_file=config_file,
                # stderr, whatever log_level says: stdout is the MCP channel in stdio mode
                on_start=lambda: typer.echo(read_from(config, settings), err=True),
            )
        )
    except KeyboardInterrupt:
        pass


def keep_pages(
    fd: Annotated[int, typer.Option(help="A listening socket handed over by a stdio process.")],
    config: ConfigOption = None,
) -> None:
    """Serve the authorization pages on an inherited socket until no flow waits for a browser."""
    from mcp_server.serving.run import keep_pages as run_keeper

    settings = load_settings_or_fail(config)
    sock = socket.socket(fileno=fd)
    run(lambda: run_keeper(settings, sock))


def demo(
    browser: Annotated[
        bool, typer.Option(help="Open the authorization link in the browser, where there is one.")
    ] = True,
) -> None:
    """Try authmcp with no account anywhere: a local provider, a tool, its authorization, its answer."""
    from mcp_server.demo.walkthrough import run_demo

    logging.basicConfig(stream=sys.stderr, level="WARNING", format="%(levelname)s %(name)s: %(message)s", force=True)
    for chatty in ("httpx2", "mcp", "uvicorn.error", "alembic", "mcp_server.vault.keys"):  # its throwaway key
        logging.getLogger(chatty).setLevel(logging.ERROR)
    try:
        answer = run(lambda: run_demo(open_browser=browser, echo=typer.echo))
    except KeyboardInterrupt:
        answer = None
    if answer is None:
        raise typer.Exit(code=130)
