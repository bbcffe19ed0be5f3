"""Where the vault's keys come from: `AUTHMCP_ENCRYPTION_KEYS`, else the key file, created on first run only."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from mcp_server.errors import KeyringError
from mcp_server.vault.keyring import FileKeyring, Keyring, generate_key, write_key_file
from mcp_server.vault.store import Vault

__all__ = ["open_vault"]

logger = logging.getLogger(__name__)


async def open_vault(
    database_url: str, *, env_keys: Sequence[str], key_file: Path, schema: tuple[bool, bool] = (True, False)
) -> Vault:
    """Open the database and the keys that read it, failing closed. `schema`: as `Vault.open` takes it.

    A key file is created (mode 0600) only when no key is configured and the database holds no encrypted
    data: a missing key is never silently replaced by a new one.

    Raises:
        KeyringError: The keys are missing, malformed, or do not match the stored data.
    """
    engine = Vault.create_engine(database_url)
    try:
        if env_keys:
            keyring = Keyring(env_keys, where="AUTHMCP_ENCRYPTION_KEYS")
        elif key_file.exists():
            keyring = FileKeyring(key_file)
        else:
            keyring = await _first_run_keyring(engine, key_file, schema)
        return await Vault.open(engine, keyring, schema=schema)
    except BaseException:
        await engine.dispose()
        raise


async def _first_run_keyring(engine: AsyncEngine, key_file: Path, schema: tuple[bool, bool]) -> Keyring:
    probe = await Vault.open(engine, Keyring([generate_key()]), check_keys=False, schema=schema)
    if await probe.stored_key_ids():
        raise KeyringError(
            f"The database holds encrypted tokens but there is no key: {key_file} is missing and "
            f"AUTHMCP_ENCRYPTION_KEYS is not set. Restore the key file from your backup (or set the variable); "
            f"authmcp will not create a new key over existing data."
        )
    key = generate_key()
    write_key_file(key_file, [key], create=True)
    logger.warning("created a new encryption key in %s; back it up: without it the stored tokens are lost", key_file)
    return FileKeyring(key_file)
