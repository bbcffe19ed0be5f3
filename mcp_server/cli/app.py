"""The `authmcp` command: one module per command group, assembled here."""

from __future__ import annotations

import sys
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
    """`authmcp`; a mistake in the command line itself (an unknown command or option, a value of the wrong type)
    is one line, like every other mistake, instead of Click's usage box."""
    try:
        code = app(standalone_mode=False, prog_name="authmcp")
    except typer.TyperException as exc:  # typer's own Click: UsageError and its kin, whose classes are not public
        if type(exc).__name__ == "NoArgsIsHelpError":  # `authmcp` (or a group) alone: its help, as before
            exc.show()  # type: ignore[attr-defined]
            sys.exit(2)
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "authmcp"
        typer.echo(f"authmcp: {exc.format_message().rstrip('.')}; `{where} --help` lists what it takes.", err=True)
        sys.exit(2)
    except typer.Abort:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
