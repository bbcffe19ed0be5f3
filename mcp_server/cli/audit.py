"""`authmcp audit`: the audit trail, newest first, never a value."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mcp_server.cli.common import (
    ConfigOption,
    load_settings_or_fail,
    missing_database,
    run,
    shown_database,
    table,
    where_from,
)

__all__ = ["audit"]


def audit(
    user: Annotated[str | None, typer.Option(help="Only this user's events.")] = None,
    tool: Annotated[
        str | None, typer.Option(help="Only calls of this tool (Gmail.ListEmails or Gmail_ListEmails).")
    ] = None,
    provider: Annotated[str | None, typer.Option(help="Only events about this provider (or secret name).")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only events since then: 30m, 1h, 7d, or a date like 2026-11-01.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many events, newest first.")] = 100,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
    config: ConfigOption = None,
) -> None:
    """Show the audit trail: authorizations, refreshes, revocations, secrets, tool calls. Never a value."""
    import datetime
    import json

    from mcp_server.observability.audit import AuditQuery, parse_since, read_audit
    from mcp_server.vault import Vault

    settings = load_settings_or_fail(config, quiet=True)
    try:
        since_ts = parse_since(since) if since is not None else None
    except ValueError as exc:
        typer.echo(f"authmcp: {exc}.", err=True)
        raise typer.Exit(code=2) from None
    query = AuditQuery(user_id=user, tool=tool, provider_id=provider, since=since_ts, limit=limit)

    async def fetch() -> list[dict[str, Any]]:
        from mcp_server.vault.migrate import check_schema

        engine = Vault.create_engine(settings.resolved_database_url())
        try:
            async with engine.begin() as conn:
                await check_schema(conn)
            rows, _ = await read_audit(engine, query)
            return rows
        finally:
            await engine.dispose()

    missing = missing_database(settings)
    rows = [] if missing is not None else run(fetch)
    notice = where_from(config, settings)
    if missing is not None:
        notice = (notice or f"authmcp: database {shown_database(settings)}.") + (
            " It does not exist yet, so nothing is recorded (`authmcp serve` creates it)."
        )
    if notice is not None:
        typer.echo(notice, err=True)
    if json_output:
        typer.echo(json.dumps(rows, indent=2))
        return

    def when(ts: float) -> str:
        return datetime.datetime.fromtimestamp(ts, datetime.UTC).isoformat(timespec="seconds")

    lines = [("TIME", "EVENT", "USER", "TOOL / PROVIDER", "OUTCOME", "BY", "DETAIL")]
    for row in rows:
        outcome = row["outcome"] or "-"
        if row["error_kind"]:
            outcome += f" ({row['error_kind']})"
        detail = row["detail"] or (f"{row['duration_ms']:.1f} ms" if row["duration_ms"] is not None else "-")
        lines.append(
            (
                when(row["at"]),
                row["event"],
                row["user_id"] or "-",
                row["tool"] or row["provider_id"] or "-",
                outcome,
                row["actor"] or "-",
                detail,
            )
        )
    table(lines)
