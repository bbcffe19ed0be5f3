"""Alembic revisions of the vault's schema (run by `mcp_server.vault.migrate`, never by hand-written SQL)."""
