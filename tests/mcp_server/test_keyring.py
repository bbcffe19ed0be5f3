from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mcp_server.errors import KeyringError
from mcp_server.vault import DecryptionError, Keyring, generate_key
from mcp_server.vault.keyring import read_key_file, write_key_file


def test_round_trip_and_ciphertext_hides_the_value() -> None:
    keyring = Keyring([generate_key()])
    sealed = keyring.encrypt("ya29.canary-token", "connections|alice|google|access_token")
    assert "canary" not in sealed
    assert sealed.startswith(f"v1:{keyring.primary_key_id}:")
    assert keyring.decrypt(sealed, "connections|alice|google|access_token") == "ya29.canary-token"


def test_same_plaintext_encrypts_differently_each_time() -> None:
    keyring = Keyring([generate_key()])
    assert keyring.encrypt("x", "c") != keyring.encrypt("x", "c")


def test_ciphertext_moved_to_another_row_is_refused() -> None:
    keyring = Keyring([generate_key()])
    sealed = keyring.encrypt("token", "connections|alice|google|access_token")
    with pytest.raises(DecryptionError):
        keyring.decrypt(sealed, "connections|bob|google|access_token")
    with pytest.raises(DecryptionError):
        keyring.decrypt(sealed, "connections|alice|google|refresh_token")


def test_tampered_ciphertext_is_refused() -> None:
    keyring = Keyring([generate_key()])
    sealed = keyring.encrypt("token", "c")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(DecryptionError):
        keyring.decrypt(flipped, "c")


def test_first_key_encrypts_and_every_key_decrypts() -> None:
    old, new = generate_key(), generate_key()
    sealed_with_old = Keyring([old]).encrypt("token", "c")
    rotated = Keyring([new, old])
    assert rotated.decrypt(sealed_with_old, "c") == "token"
    assert rotated.encrypt("token", "c").split(":")[1] == Keyring([new]).primary_key_id


def test_unknown_key_is_refused_with_its_id() -> None:
    sealed = Keyring([generate_key()]).encrypt("token", "c")
    with pytest.raises(DecryptionError, match="not configured"):
        Keyring([generate_key()]).decrypt(sealed, "c")


@pytest.mark.parametrize(
    "key",
    [pytest.param("", id="empty"), pytest.param("short", id="short"), pytest.param("!" * 43, id="not-base64")],
)
def test_malformed_keys_are_refused_with_the_fix(key: str) -> None:
    with pytest.raises(KeyringError, match="authmcp keys generate"):
        Keyring([key] if key else [])


def test_key_file_is_created_0600_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "data" / "keys"
    write_key_file(path, ["k1"], create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        write_key_file(path, ["k2"], create=True)
    assert read_key_file(path) == ["k1"]


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(generate_key() + "\n")
    os.chmod(path, 0o644)
    with pytest.raises(KeyringError, match="chmod 600"):
        read_key_file(path)
