"""`authmcp connections list | revoke`: users' connections to providers, never a token."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from mcp_server.cli.common import (
    ConfigOption,
    JsonOption,
    fail,
    load_settings_or_fail,
    missing_database,
    run,
    shown_database,
    table,
    where_from,
)
from mcp_server.errors import AuthmcpError

__all__ = ["app"]

app = typer.Typer(help="See and remove users' connections to providers.", no_args_is_help=True)


@app.command("list")
def connections_list(
    user: Annotated[str | None, typer.Option(help="Only this user's connections.")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show connections: user, provider, status, expiry, last use, scopes. Never a token."""
    import datetime

    settings = load_settings_or_fail(config, quiet=True)
    database = shown_database(settings)

    async def fetch() -> list[dict[str, Any]]:
        from mcp_server.vault import open_vault

        vault = await open_vault(
            settings.resolved_database_url(), env_keys=settings.encryption_key_list(), key_file=settings.key_file()
        )
        try:
            rows, _ = await vault.list_connections(user)
            return rows
        finally:
            await vault.aclose()

    def when(ts: float | None) -> str:
        return datetime.datetime.fromtimestamp(ts, datetime.UTC).isoformat(timespec="seconds") if ts else "-"

    missing = missing_database(settings)
    connections = [] if missing is not None else run(fetch)
    if as_json:
        keys = ("user_id", "provider_id", "status", "expires_at", "created_at", "last_used_at")
        items = [{**{k: c[k] for k in keys}, "scopes": (c["scopes"] or "").split()} for c in connections]
        typer.echo(json.dumps({"database": database, "connections": items}, indent=2))
        return
    notice = where_from(config, settings) or f"Database: {database}"
    if missing is not None:
        notice += " It does not exist yet, so nobody is connected (`authmcp serve` creates it)."
    typer.echo(notice, err=True)
    rows = [("USER", "PROVIDER", "STATUS", "EXPIRES", "LAST USED", "SCOPES")]
    for c in connections:
        rows.append(
            (
                c["user_id"],
                c["provider_id"],
                c["status"],
                when(c["expires_at"]),
                when(c["last_used_at"]),
                c["scopes"] or "-",
            )
        )
    table(rows)


@app.command("revoke")
def connections_revoke(
    provider: Annotated[str, typer.Argument(help="Provider id, e.g. google.")],
    user: Annotated[str | None, typer.Option(help="The user (default: the local user).")] = None,
    config: ConfigOption = None,
) -> None:
    """Disconnect a user from a provider: unusable at once, then the token is revoked at the provider."""
    from mcp_server.observability.webhooks import attach_outbox
    from mcp_server.serving.runtime import open_service

    settings = load_settings_or_fail(config, quiet=True)
    user_id = user or settings.user_id

    async def revoke() -> tuple[bool, int]:
        async with open_service(settings, public_url=settings.resolved_public_url()) as service:
            attach_outbox(service.audit, settings.webhooks)  # the revocation's webhook goes out from the outbox
            removed = await service.connections.disconnect(user_id, provider, by="admin")
            return removed, await service.vault.count_revocations()

    missing = missing_database(settings)
    if missing is not None:
        raise fail(
            AuthmcpError(
                f"User {user_id!r} has no connection to {provider!r}: there is no database at {missing} yet. "
                f"`authmcp connections list` shows who is connected to what; --config FILE reads the server's."
            )
        )
    removed, queued = run(revoke)
    if not removed:  # a mistake in the command, like every other: one line, exit 2
        raise fail(
            AuthmcpError(
                f"User {user_id!r} has no connection to {provider!r}; `authmcp connections list` shows who is "
                f"connected to what."
            )
        )
    typer.echo(f"Disconnected {user_id!r} from {provider!r}.")
    notice = where_from(config, settings)
    if notice is not None:
        typer.echo(notice, err=True)
    if queued:
        typer.echo(
            f"The provider could not be told yet; a running `authmcp serve` retries every "
            f"{settings.revocation_retry_seconds:.0f} s ({queued} revocation(s) queued)."
        )
