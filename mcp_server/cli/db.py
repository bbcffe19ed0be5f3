"""`authmcp db upgrade`: the database schema, migrated as a step of its own (a one-shot job)."""

from __future__ import annotations

import typer

from mcp_server.cli.common import ConfigOption, load_settings_or_fail, run

__all__ = ["app"]

app = typer.Typer(help="The database schema.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Bring the database schema to this version of authmcp (run once per upgrade, before starting it)."""
    from mcp_server.vault import Vault
    from mcp_server.vault.migrate import upgrade

    settings = load_settings_or_fail(config)

    async def migrate() -> tuple[str | None, str]:
        engine = Vault.create_engine(settings.resolved_database_url())
        try:
            async with engine.begin() as conn:
                return await upgrade(conn)
        finally:
            await engine.dispose()

    before, now = run(migrate)
    if before == now:
        typer.echo(f"The database schema is up to date (revision {now}).")
    elif before is None:
        typer.echo(f"Created the database schema (revision {now}).")
    else:
        typer.echo(f"Upgraded the database schema from {before or 'nothing'} to revision {now}.")
