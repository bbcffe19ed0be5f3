"""`authmcp install CLIENT`: authmcp's entry in an MCP client's configuration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mcp_server.cli.client_config import CLIENTS, RESTART, client_config_path, merge_entry, server_entry, servers_key
from mcp_server.cli.common import ConfigOption, fail, load_settings_or_fail
from mcp_server.config import DEFAULT_PORT, config_file_path
from mcp_server.errors import AuthmcpError

__all__ = ["install"]


def install(
    client: Annotated[
        str,
        typer.Argument(
            help="claude-desktop, cursor, claude-code (this folder's .mcp.json), vscode (this folder's "
            ".vscode/mcp.json) or mcp-json."
        ),
    ],
    config: ConfigOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the entry; change no file.")] = False,
    file: Annotated[
        Path | None, typer.Option("--file", help="The client's configuration file (default: its usual place).")
    ] = None,
    name: Annotated[str, typer.Option(help="The server's name in the client.")] = "authmcp",
    port: Annotated[
        int | None, typer.Option(help="Port of the authorization pages (default: authmcp's, 8000).")
    ] = None,
) -> None:
    """Add authmcp to an MCP client's configuration (merged, the old file backed up first)."""
    if client not in CLIENTS:
        raise fail(AuthmcpError(f"Unknown client {client!r}; use one of: {', '.join(CLIENTS)}."))
    if port is not None and not 0 < port <= 65535:
        raise fail(AuthmcpError(f"Port {port} is not a port number; choose one from 1 to 65535."))
    settings = load_settings_or_fail(config)
    try:
        key = servers_key(client)
        entry = server_entry(
            config_file=config_file_path(config), data_dir=settings.data_dir, port=port, typed=client == "vscode"
        )
        path = file or client_config_path(client)
        if port is not None and port != DEFAULT_PORT:
            typer.echo(_redirect_note(port, settings.public_url), err=True)
        if dry_run or path is None:
            typer.echo(json.dumps({key: {name: entry}}, indent=2))
            if path is not None:
                typer.echo(f"(dry run: {path} was not changed)", err=True)
            return
        backup = merge_entry(path, name, entry, key=key)
    except AuthmcpError as exc:
        raise fail(exc) from None
    typer.echo(
        f"Added {name!r} to {path.absolute()}" + (f" (the previous file is kept as {backup})." if backup else ".")
    )
    if RESTART[client]:
        typer.echo(RESTART[client])


def _redirect_note(port: int, public_url: str | None) -> str:
    """What moving the pages' port means at the providers: their registered redirect URI must follow."""
    if public_url:
        return (
            f"Note: public_url ({public_url}) is what browsers reach and what providers redirect to; make it "
            f"lead to port {port}, or the authorization links will not work."
        )
    return (
        f"Note: with --port {port} the authorization pages move, and so does the redirect URI: register "
        f"http://127.0.0.1:{port}/oauth/callback at each provider you use (its OAuth app's redirect URL)."
    )
