"""`authmcp tools`: every tool, what it needs, and whether it can work as configured."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from typing import Any

import typer

from mcp_server.cli.common import ConfigOption, JsonOption, ToolkitOption, fail, load_settings_or_fail
from mcp_server.errors import AuthmcpError

__all__ = ["tools"]


def tools(config: ConfigOption = None, toolkit: ToolkitOption = None, as_json: JsonOption = False) -> None:
    """List the tools: name, provider, scopes, secrets, and whether each can work as configured.

    A diagnostic: a tool whose provider is not known at all is listed as not ready (saying what to add), where
    `serve` refuses its toolkit; only a toolkit that cannot be loaded is an error (exit 2).
    """
    from mcp_server.calls.readiness import tool_readiness
    from mcp_server.serving.runtime import load_tools

    settings = load_settings_or_fail(config, quiet=True)
    try:
        providers, catalog = load_tools(settings, toolkit or [], unknown_providers=True)
    except AuthmcpError as exc:
        raise fail(exc) from None
    entries: list[dict[str, Any]] = []
    summaries: list[str] = []
    not_ready: dict[str, int] = {}  # why, and how many tools
    for definition in catalog:
        requirement = definition.requirement
        readiness = tool_readiness(definition, providers, settings)
        entries.append(
            {
                "name": definition.api_name,
                "provider": requirement.id if requirement else None,
                "scopes": list(requirement.scopes) if requirement else [],
                "secrets": list(definition.secrets),
                "provider_configured": readiness.provider_configured,
                "secrets_set": list(readiness.secrets_set),
                "ready": readiness.ready,
                "reason": readiness.reason,
            }
        )
        summaries.append(readiness.summary)
        if readiness.reason is not None:
            not_ready[readiness.reason] = not_ready.get(readiness.reason, 0) + 1
    if as_json:
        typer.echo(json.dumps(entries, indent=2))
    else:
        width = shutil.get_terminal_size().columns
        groups: dict[str, list[tuple[str, ...]]] = {}
        for definition, e, summary in zip(catalog, entries, summaries):
            row = (definition.name, e["provider"] or "-", " ".join(e["scopes"]) or "-", " ".join(e["secrets"]) or "-")
            groups.setdefault(definition.toolkit, []).append((*row, summary, _first_line(definition.description)))
        for number, (toolkit_name, rows) in enumerate(groups.items()):
            typer.echo(("\n" if number else "") + f"{toolkit_name} ({len(rows)} tool{'s' if len(rows) != 1 else ''})")
            heading = ("  TOOL", "PROVIDER", "SCOPES", "SECRETS", "READY")
            lines = fitted([heading, *[("  " + row[0], *row[1:5]) for row in rows]], width, shrink=2)
            typer.echo(lines[0])
            for line, tool_row in zip(lines[1:], rows):
                typer.echo(line)
                typer.echo(_cut("      " + tool_row[5], width))
    if len(catalog) == 0:
        typer.echo("(no tools: add toolkits with --toolkit or the `toolkits` setting)", err=True)
    for reason, count in not_ready.items():
        typer.echo(f"({count} tool(s) not ready) {reason}", err=True)


def _first_line(description: str) -> str:
    """The description's first paragraph on one line (a docstring's first line may be wrapped mid-sentence)."""
    return " ".join(description.strip().split("\n\n")[0].split())


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def fitted(rows: Sequence[Sequence[str]], width: int, *, shrink: int) -> list[str]:
    """`rows` as aligned columns within `width` characters: column `shrink` (then any line) is cut to fit."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    over = sum(widths) + 2 * (len(widths) - 1) - width
    if over > 0:
        widths[shrink] = max(8, widths[shrink] - over)
    return [_cut("  ".join(_cut(cell, w).ljust(w) for cell, w in zip(row, widths)).rstrip(), width) for row in rows]
