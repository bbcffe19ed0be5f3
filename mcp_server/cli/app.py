"""The `authmcp` command."""

from __future__ import annotations

import json
import logging
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import typer

from mcp_server.config import Settings, config_file_path, load_settings, package_version
from mcp_server.errors import AuthmcpError, KeyringError

__all__ = ["app", "main"]

T = TypeVar("T")

app = typer.Typer(
    help="authmcp: an MCP server for tools that act on your users' accounts.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a bug's traceback must never print settings or tokens
)
keys_app = typer.Typer(help="Manage the keys that encrypt stored tokens.", no_args_is_help=True)
connections_app = typer.Typer(help="See and remove users' connections to providers.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(connections_app, name="connections")
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML configuration file (default: $AUTHMCP_CONFIG, else ./authmcp.toml).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ToolkitOption = Annotated[
    list[str] | None, typer.Option("--toolkit", help="A toolkit module or .py file to load; repeatable.")
]


# libraries that log request and response bodies (tool results, tokens, flow ids) below these levels
BODY_LOGGERS = {
    "sse_starlette": logging.INFO, "httpcore": logging.INFO,
    # every request's full URL at INFO: a toolkit's query string may hold what the user searched for
    "httpx": logging.WARNING, "httpx2": logging.WARNING,
    "httpcore2": logging.INFO, "hpack": logging.INFO, "authlib": logging.INFO, "mcp": logging.INFO,
    "asyncpg": logging.INFO, "aiosqlite": logging.INFO, "python_multipart": logging.INFO, "multipart": logging.INFO,
    "sqlalchemy.engine": logging.WARNING,  # its INFO is every statement with parameters
}


def _configure_logging(level: str) -> None:
    # stderr only: in stdio mode stdout carries JSON-RPC and nothing else
    logging.basicConfig(
        stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    if level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)  # its per-start chatter, not ours
    # whatever log_level says, never below the level at which they would print bodies
    for name, floor in BODY_LOGGERS.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLevelName(level)))


def _fail(exc: AuthmcpError) -> typer.Exit:
    typer.echo(f"authmcp: {exc}", err=True)
    return typer.Exit(code=2)


def _settings(config: Path | None) -> Settings:
    try:
        settings = load_settings(config)
    except AuthmcpError as exc:
        raise _fail(exc) from None
    _configure_logging(settings.log_level)
    return settings


def _run(fn: Callable[[], Awaitable[T]]) -> T:
    """Run `fn`; what the user can fix (configuration, paths, permissions, the database) is one line, exit 2."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return anyio.run(fn)
    except AuthmcpError as exc:
        raise _fail(exc) from None
    except PermissionError as exc:
        raise _fail(AuthmcpError(f"Permission denied: {exc.filename or exc}. Check the data_dir and file permissions.")) from None
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise _fail(AuthmcpError(f"{exc.strerror or exc}{where}. Check the data_dir and paths in the configuration.")) from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0][:200]
        raise _fail(AuthmcpError(f"The database cannot be used ({reason}). Check database_url and data_dir.")) from None


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


@app.command()
def serve(
    transport: Annotated[str, typer.Option(help="stdio, http (Streamable HTTP at /mcp and SSE at /sse), or sse.")] = "stdio",
    host: Annotated[str, typer.Option(help="Interface for HTTP (and, with stdio, the authorization pages).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for HTTP (and, with stdio, the authorization pages); 0 picks one.")] = 8000,
    config: ConfigOption = None,
    toolkit: ToolkitOption = None,
    stateless: Annotated[bool, typer.Option(help="Streamable HTTP without sessions (for replicas).")] = False,
) -> None:
    """Serve the tools over MCP."""
    from mcp_server.serving.run import serve as run_server

    settings = _settings(config)
    config_file = config_file_path(config)
    try:
        _run(lambda: run_server(
            settings, transport=transport, host=host, port=port, toolkits=toolkit or [], stateless=stateless,
            config_file=config_file,
        ))
    except KeyboardInterrupt:
        pass


@app.command("keep-pages", hidden=True)
def keep_pages(
    fd: Annotated[int, typer.Option(help="A listening socket handed over by a stdio process.")],
    config: ConfigOption = None,
) -> None:
    """Serve the authorization pages on an inherited socket until no flow waits for a browser."""
    from mcp_server.serving.run import keep_pages as run_keeper

    settings = _settings(config)
    sock = socket.socket(fileno=fd)
    _run(lambda: run_keeper(settings, sock))


@app.command()
def tools(config: ConfigOption = None, toolkit: ToolkitOption = None, as_json: JsonOption = False) -> None:
    """List the tools: name, provider, scopes, secrets, and whether each can work as configured."""
    from mcp_server.calls.readiness import tool_readiness
    from mcp_server.serving.runtime import load_tools

    settings = _settings(config)
    try:
        providers, catalog = load_tools(settings, toolkit or [])
    except AuthmcpError as exc:
        raise _fail(exc) from None
    entries, summaries = [], []
    for definition in catalog:
        requirement = definition.requirement
        readiness = tool_readiness(definition, providers, settings)
        entries.append({
            "name": definition.api_name,
            "provider": requirement.id if requirement else None,
            "scopes": list(requirement.scopes) if requirement else [],
            "secrets": list(definition.secrets),
            "provider_configured": readiness.provider_configured,
            "secrets_set": list(readiness.secrets_set),
            "ready": readiness.ready,
        })
        summaries.append(readiness.summary)
    if as_json:
        typer.echo(json.dumps(entries, indent=2))
    else:
        rows = [("TOOL", "PROVIDER", "SCOPES", "SECRETS", "READY")]
        rows += [
            (e["name"], e["provider"] or "-", " ".join(e["scopes"]) or "-", " ".join(e["secrets"]) or "-", summary)
            for e, summary in zip(entries, summaries)
        ]
        _table(rows)
    if len(catalog) == 0:
        typer.echo("(no tools: add toolkits with --toolkit or the `toolkits` setting)", err=True)
    elif not all(e["ready"] for e in entries):
        typer.echo("(tools marked \"no\" need their provider's client_id and client_secret under [providers.<id>])", err=True)


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new encryption key (for AUTHMCP_ENCRYPTION_KEYS)."""
    from mcp_server.vault import generate_key

    typer.echo(generate_key())


@keys_app.command("rotate")
def keys_rotate(config: ConfigOption = None) -> None:
    """Re-encrypt every stored value with a new key, while authmcp serves.

    With a key file: a new key is put first in the file (the old ones stay, for reading), and a running
    `authmcp serve` picks it up by itself. With AUTHMCP_ENCRYPTION_KEYS: put a new key (`authmcp keys generate`)
    first in the list on every server and restart them, then run this. Run again after an interruption: it
    finishes the same rotation. Then `authmcp keys retire` drops the old keys.
    """
    from mcp_server.authorization.instances import running_instances
    from mcp_server.vault import Keyring, generate_key, open_vault
    from mcp_server.vault.keyring import read_key_file, write_key_file

    settings = _settings(config)

    async def rotate() -> tuple[int, Keyring, str]:
        env_keys = settings.encryption_key_list()
        key_file = settings.key_file()
        vault = await open_vault(settings.resolved_database_url(), env_keys=env_keys, key_file=key_file)
        try:
            if env_keys:
                keyring, where = vault.keyring, "the first key of AUTHMCP_ENCRYPTION_KEYS"
                _refuse_servers_on_other_keys(running_instances(settings.data_dir / "run"), keyring.primary_key_id)
            else:
                keys = read_key_file(key_file)
                unfinished = set(await vault.keys_in_use()) - {Keyring(keys).primary_key_id}
                if not unfinished:  # else an earlier rotation was interrupted: finish it with its key
                    keys = [generate_key(), *keys]
                    write_key_file(key_file, keys, create=False)
                keyring, where = Keyring(keys, where=str(key_file)), str(key_file)
            return await vault.rotate_keys(keyring), keyring, where
        finally:
            await vault.aclose()

    count, keyring, where = _run(rotate)
    typer.echo(f"Re-encrypted {count} stored value(s) with key {keyring.primary_key_id} ({where}).")
    old = [k for k in keyring.key_ids if k != keyring.primary_key_id]
    if old:
        typer.echo(f"Nothing stored uses the old key(s) {', '.join(old)} any more: `authmcp keys retire` removes them.")


def _refuse_servers_on_other_keys(instances: list[dict[str, Any]], primary: str) -> None:
    behind = [i for i in instances if i.get("primary_key_id") not in (None, primary) and i.get("key_source") == "env"]
    if behind:
        pids = ", ".join(str(i.get("pid", "?")) for i in behind)
        raise KeyringError(
            f"authmcp serve (pid {pids}) on this data directory still encrypts with another key, so it would keep "
            f"writing with the old one. Give it the new AUTHMCP_ENCRYPTION_KEYS (the new key first, then the old "
            f"ones) and restart it, then run `authmcp keys rotate` again. Nothing was changed."
        )


@keys_app.command("retire")
def keys_retire(config: ConfigOption = None) -> None:
    """Remove from the key file the keys nothing stored uses any more (after `authmcp keys rotate`).

    With AUTHMCP_ENCRYPTION_KEYS, says which keys to drop from the variable instead.
    """
    from mcp_server.vault import Keyring, open_vault
    from mcp_server.vault.keyring import read_key_file, write_key_file

    settings = _settings(config)

    async def retire() -> tuple[list[str], list[str]]:
        env_keys = settings.encryption_key_list()
        key_file = settings.key_file()
        vault = await open_vault(settings.resolved_database_url(), env_keys=env_keys, key_file=key_file)
        try:
            in_use = set(await vault.keys_in_use())
        finally:
            await vault.aclose()
        keys = env_keys or read_key_file(key_file)
        ids = [Keyring([key]).primary_key_id for key in keys]
        keep = [key for index, (key, key_id) in enumerate(zip(keys, ids)) if index == 0 or key_id in in_use]
        unused = [key_id for index, key_id in enumerate(ids) if index > 0 and key_id not in in_use]
        if in_use - set(ids[:1]):
            raise KeyringError(
                f"Stored values still use key(s) {', '.join(sorted(in_use - set(ids[:1])))}: run `authmcp keys "
                f"rotate` first. Nothing was changed."
            )
        if unused and not env_keys:
            write_key_file(key_file, keep, create=False)
        return unused, ids[:1]

    unused, primary = _run(retire)
    if not unused:
        typer.echo(f"Only key {primary[0]} is configured; nothing to retire.")
    elif settings.encryption_key_list():
        typer.echo(
            f"Key(s) {', '.join(unused)} are no longer used: keep only the first key in AUTHMCP_ENCRYPTION_KEYS "
            f"and restart authmcp."
        )
    else:
        typer.echo(
            f"Removed key(s) {', '.join(unused)} from {settings.key_file()}; a running authmcp serve re-reads it by "
            f"itself."
        )


@connections_app.command("list")
def connections_list(
    user: Annotated[str | None, typer.Option(help="Only this user's connections.")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show connections: user, provider, status, expiry, last use, scopes. Never a token."""
    import datetime

    from sqlalchemy.engine import make_url

    settings = _settings(config)
    database = make_url(settings.resolved_database_url()).render_as_string(hide_password=True)

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

    connections = _run(fetch)
    if as_json:
        keys = ("user_id", "provider_id", "status", "expires_at", "created_at", "last_used_at")
        items = [{**{k: c[k] for k in keys}, "scopes": (c["scopes"] or "").split()} for c in connections]
        typer.echo(json.dumps({"database": database, "connections": items}, indent=2))
        return
    typer.echo(f"Database: {database}", err=True)
    rows = [("USER", "PROVIDER", "STATUS", "EXPIRES", "LAST USED", "SCOPES")]
    for c in connections:
        rows.append(
            (c["user_id"], c["provider_id"], c["status"], when(c["expires_at"]), when(c["last_used_at"]), c["scopes"] or "-")
        )
    _table(rows)


@connections_app.command("revoke")
def connections_revoke(
    provider: Annotated[str, typer.Argument(help="Provider id, e.g. google.")],
    user: Annotated[str | None, typer.Option(help="The user (default: the local user).")] = None,
    config: ConfigOption = None,
) -> None:
    """Disconnect a user from a provider: unusable at once, then the token is revoked at the provider."""
    from mcp_server.observability.audit import AuditLog
    from mcp_server.authorization.service import AuthorizationService
    from mcp_server.providers import ProviderRegistry
    from mcp_server.vault import open_vault
    from mcp_server.vault.digest_keys import AUDIT_ARGUMENTS, digest_key
    from mcp_server.observability.webhooks import attach_outbox

    settings = _settings(config)
    user_id = user or settings.user_id

    async def revoke() -> tuple[bool, int]:
        vault = await open_vault(
            settings.resolved_database_url(), env_keys=settings.encryption_key_list(), key_file=settings.key_file()
        )
        audit = AuditLog(vault.engine, digest_key=await digest_key(vault, AUDIT_ARGUMENTS))
        attach_outbox(audit, settings.webhooks)  # the revocation's webhook goes out from the server's outbox
        try:
            service = AuthorizationService(
                vault=vault, providers=ProviderRegistry(settings.providers),
                public_url=settings.resolved_public_url("127.0.0.1", 8000),
                http_timeout=settings.http_timeout_seconds,
                revocation_retry_seconds=settings.revocation_retry_seconds,
                audit=audit,
            )
            removed = await service.disconnect(user_id, provider, by="admin")
            return removed, await vault.count_revocations()
        finally:
            await audit.aclose()
            await vault.aclose()

    removed, queued = _run(revoke)
    if not removed:
        typer.echo(f"authmcp: user {user_id!r} has no connection to {provider!r}.", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"Disconnected {user_id!r} from {provider!r}.")
    if queued:
        typer.echo(
            f"The provider could not be told yet; a running `authmcp serve` retries every "
            f"{settings.revocation_retry_seconds:.0f} s ({queued} revocation(s) queued)."
        )


@app.command()
def audit(
    user: Annotated[str | None, typer.Option(help="Only this user's events.")] = None,
    tool: Annotated[str | None, typer.Option(help="Only calls of this tool (Gmail.ListEmails or Gmail_ListEmails).")] = None,
    provider: Annotated[str | None, typer.Option(help="Only events about this provider (or secret name).")] = None,
    since: Annotated[str | None, typer.Option(help="Only events since then: 30m, 1h, 7d, or a date like 2026-11-01.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many events, newest first.")] = 100,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
    config: ConfigOption = None,
) -> None:
    """Show the audit trail: authorizations, refreshes, revocations, secrets, tool calls. Never a value."""
    import datetime
    import json

    from mcp_server.observability.audit import AuditQuery, parse_since, read_audit
    from mcp_server.vault import Vault

    settings = _settings(config)
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

    rows = _run(fetch)
    if json_output:
        typer.echo(json.dumps(rows, indent=2))
        return

    def when(ts: float) -> str:
        return datetime.datetime.fromtimestamp(ts, datetime.UTC).isoformat(timespec="seconds")

    table = [("TIME", "EVENT", "USER", "TOOL / PROVIDER", "OUTCOME", "BY", "DETAIL")]
    for row in rows:
        outcome = row["outcome"] or "-"
        if row["error_kind"]:
            outcome += f" ({row['error_kind']})"
        detail = row["detail"] or (f"{row['duration_ms']:.1f} ms" if row["duration_ms"] is not None else "-")
        table.append((
            when(row["at"]), row["event"], row["user_id"] or "-", row["tool"] or row["provider_id"] or "-",
            outcome, row["actor"] or "-", detail,
        ))
    _table(table)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Bring the database schema to this version of authmcp (run once per upgrade, before starting it)."""
    from mcp_server.vault import Vault
    from mcp_server.vault.migrate import upgrade

    settings = _settings(config)

    async def run() -> tuple[str | None, str]:
        engine = Vault.create_engine(settings.resolved_database_url())
        try:
            async with engine.begin() as conn:
                return await upgrade(conn)
        finally:
            await engine.dispose()

    before, now = _run(run)
    if before == now:
        typer.echo(f"The database schema is up to date (revision {now}).")
    elif before is None:
        typer.echo(f"Created the database schema (revision {now}).")
    else:
        typer.echo(f"Upgraded the database schema from {before or 'nothing'} to revision {now}.")


@app.command()
def demo(
    browser: Annotated[bool, typer.Option(help="Open the authorization link in the browser, where there is one.")] = True,
) -> None:
    """Try authmcp with no account anywhere: a local provider, a tool, its authorization, its answer."""
    from mcp_server.demo.walkthrough import run_demo

    logging.basicConfig(stream=sys.stderr, level="WARNING", format="%(levelname)s %(name)s: %(message)s", force=True)
    for chatty in ("httpx2", "mcp", "uvicorn.error", "alembic", "mcp_server.vault.keys"):  # its throwaway key
        logging.getLogger(chatty).setLevel(logging.ERROR)
    try:
        answer = _run(lambda: run_demo(open_browser=browser, echo=typer.echo))
    except KeyboardInterrupt:
        answer = None
    if answer is None:
        raise typer.Exit(code=130)


@app.command()
def install(
    client: Annotated[str, typer.Argument(help="claude-desktop, cursor, claude-code (this folder's .mcp.json) or mcp-json.")],
    config: ConfigOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the entry; change no file.")] = False,
    file: Annotated[Path | None, typer.Option("--file", help="The client's configuration file (default: its usual place).")] = None,
    name: Annotated[str, typer.Option(help="The server's name in the client.")] = "authmcp",
    port: Annotated[int | None, typer.Option(help="Port of the authorization pages (default: authmcp's, 8000).")] = None,
) -> None:
    """Add authmcp to an MCP client's configuration (merged, the old file backed up first)."""
    from mcp_server.cli.install import CLIENTS, RESTART, client_config_path, merge_entry, server_entry

    if client not in CLIENTS:
        raise _fail(AuthmcpError(f"Unknown client {client!r}; use one of: {', '.join(CLIENTS)}."))
    if port is not None and not 0 < port <= 65535:
        raise _fail(AuthmcpError(f"Port {port} is not a port number; choose one from 1 to 65535."))
    settings = _settings(config)
    try:
        entry = server_entry(config_file=config_file_path(config), data_dir=settings.data_dir, port=port)
        path = file or client_config_path(client)
        if dry_run or path is None:
            typer.echo(json.dumps({"mcpServers": {name: entry}}, indent=2))
            if path is not None:
                typer.echo(f"(dry run: {path} was not changed)", err=True)
            return
        backup = merge_entry(path, name, entry)
    except AuthmcpError as exc:
        raise _fail(exc) from None
    typer.echo(f"Added {name!r} to {path.absolute()}" + (f" (the previous file is kept as {backup})." if backup else "."))
    if RESTART[client]:
        typer.echo(RESTART[client])


def main() -> None:
    app()
