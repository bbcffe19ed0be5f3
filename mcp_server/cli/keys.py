"""`authmcp keys generate | rotate | retire`: the keys that encrypt stored tokens."""

from __future__ import annotations

from typing import Any

import typer

from mcp_server.cli.common import ConfigOption, load_settings_or_fail, run
from mcp_server.errors import KeyringError

__all__ = ["app"]

app = typer.Typer(help="Manage the keys that encrypt stored tokens.", no_args_is_help=True)


@app.command("generate")
def keys_generate() -> None:
    """Print a new encryption key (for AUTHMCP_ENCRYPTION_KEYS)."""
    from mcp_server.vault import generate_key

    typer.echo(generate_key())


@app.command("rotate")
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

    settings = load_settings_or_fail(config)

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

    count, keyring, where = run(rotate)
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


@app.command("retire")
def keys_retire(config: ConfigOption = None) -> None:
    """Remove from the key file the keys nothing stored uses any more (after `authmcp keys rotate`).

    With AUTHMCP_ENCRYPTION_KEYS, says which keys to drop from the variable instead.
    """
    from mcp_server.vault import Keyring, open_vault
    from mcp_server.vault.keyring import read_key_file, write_key_file

    settings = load_settings_or_fail(config)

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

    unused, primary = run(retire)
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
