"""Encrypted storage of connections and flows (SQLite by default, PostgreSQL for replicas)."""

from __future__ import annotations

from mcp_server.vault.keyring import DecryptionError, Keyring, generate_key
from mcp_server.vault.keys import open_vault
from mcp_server.vault.store import Connection, Flow, PendingRevocation, Vault, async_database_url

__all__ = [
    "Connection",
    "DecryptionError",
    "Flow",
    "Keyring",
    "PendingRevocation",
    "Vault",
    "async_database_url",
    "generate_key",
    "open_vault",
]
