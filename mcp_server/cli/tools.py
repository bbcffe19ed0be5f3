"""`authmcp tools`: every tool, what it needs, and whether it can work as configured."""

from __future__ import annotations

import json
from typing import Any

import typer

from mcp_server.cli.common import ConfigOption, JsonOption, ToolkitOption, fail, load_settings_or_fail, table
from mcp_server.errors import AuthmcpError

__all__ = ["tools"]


def tools(config: ConfigOption = None, toolkit: ToolkitOption = None, as_json: JsonOption = False) -> None:
    """List the tools: name, provider, scopes, secrets, and whether each can work as configured.

    A diagnostic: a tool whose provider is not known at all is listed as not ready (saying what to add), where
    `serve` refuses its toolkit; only a toolkit that cannot be loaded is an error (exit 2).
    """
    from mcp_server.calls.readiness import tool_readiness
    from mcp_server.serving.runtime import load_tools

    settings = load_settings_or_fail(config)
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
        rows = [("TOOL", "PROVIDER", "SCOPES", "SECRETS", "READY")]
        rows += [
            (e["name"], e["provider"] or "-", " ".join(e["scopes"]) or "-", " ".join(e["secrets"]) or "-", summary)
            for e, summary in zip(entries, summaries)
        ]
        table(rows)
    if len(catalog) == 0:
        typer.echo("(no tools: add toolkits with --toolkit or the `toolkits` setting)", err=True)
    for reason, count in not_ready.items():
        typer.echo(f"({count} tool(s) not ready) {reason}", err=True)
