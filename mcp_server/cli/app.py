"""The `authmcp` command: one module per command group, assembled here."""

from __future__ import annotations

from typing import Annotated

import typer

from mcp_server.cli import connections, db, keys
from mcp_server.cli.audit import audit
from mcp_server.cli.install import install
from mcp_server.cli.serve import demo, keep_pages, serve
from mcp_server.cli.tools import tools
from mcp_server.config import package_version

__all__ = ["app", "main"]

app = typer.Typer(
    help="authmcp: an MCP server for tools that act on your users' accounts.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a bug's traceback must never print settings or tokens
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"authmcp {package_version()}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """authmcp: an MCP server for tools that act on your users' accounts."""


app.command()(serve)
app.command("keep-pages", hidden=True)(keep_pages)
app.command()(tools)
app.add_typer(keys.app, name="keys")
app.add_typer(connections.app, name="connections")
app.command()(audit)
app.add_typer(db.app, name="db")
app.command()(demo)
app.command()(install)


def main() -> None:
    app()
