"""AES-256-GCM encryption of token columns, with a key id prefix and associated data per row.

A ciphertext reads `v1:<key id>:<base64url(nonce || ciphertext+tag)>`. The key id is derived from the key
itself, so a wrong key can never be mistaken for the right one. The associated data names the row and
column a value belongs to, so a ciphertext copied into another row fails to decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mcp_server.errors import AuthmcpError, KeyringError

__all__ = ["DecryptionError", "FileKeyring", "Keyring", "generate_key", "read_key_file", "write_key_file"]

logger = logging.getLogger(__name__)

_VERSION = "v1"
_NONCE_BYTES = 12  # 96-bit random nonce, the size GCM is specified for (NIST SP 800-38D §8.2)


class DecryptionError(AuthmcpError):
    """A stored value could not be decrypted: unknown key, or it does not belong to this row."""


def generate_key() -> str:
    """A new random 256-bit key, base64url-encoded."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _decode_key(text: str, where: str, index: int) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise KeyringError(
            f"Encryption key #{index + 1} in {where} is not a base64url-encoded 32-byte key; "
            f"make one with `authmcp keys generate`."
        )
    return key


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"authmcp-key-id:" + key).hexdigest()[:12]


class Keyring:
    """The configured keys: the first encrypts, all decrypt."""

    def __init__(self, keys: Sequence[str], *, where: str = "AUTHMCP_ENCRYPTION_KEYS"):
        if not keys:
            raise KeyringError(f"No encryption key in {where}; make one with `authmcp keys generate`.")
        self._ciphers: dict[str, AESGCM] = {}
        for index, text in enumerate(keys):
            key = _decode_key(text.strip(), where, index)
            self._ciphers.setdefault(_key_id(key), AESGCM(key))
        self.primary_key_id = next(iter(self._ciphers))
        self._primary = _decode_key(keys[0].strip(), where, 0)

    def derive(self, purpose: str) -> bytes:
        """A 256-bit key for another use than encryption (e.g. keyed digests), derived from the primary key
        with HKDF-SHA256, so no second secret has to be kept."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"authmcp {purpose}".encode())
        return hkdf.derive(self._primary)

    @property
    def key_ids(self) -> list[str]:
        return list(self._ciphers)

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        aad = f"{context}|{self.primary_key_id}".encode()
        sealed = self._ciphers[self.primary_key_id].encrypt(nonce, plaintext.encode(), aad)
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{_VERSION}:{self.primary_key_id}:{body}"

    def decrypt(self, token: str, context: str) -> str:
        try:
            version, key_id, body = token.split(":", 2)
        except ValueError:
            raise DecryptionError("stored value is not in the v1 ciphertext format") from None
        cipher = self._ciphers.get(key_id)
        if version != _VERSION or cipher is None:
            raise DecryptionError(f"stored value was encrypted with key {key_id}, which is not configured")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plain = cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], f"{context}|{key_id}".encode())
        except (InvalidTag, binascii.Error, ValueError):
            raise DecryptionError("stored value does not decrypt for this row (tampered or moved)") from None
        return plain.decode()


class FileKeyring(Keyring):
    """The keys of a key file, re-read whenever the file changes (one `stat` per use): a running `serve` follows
    `authmcp keys rotate` at once, encrypting with the new first key and still reading the old ones. A file
    that cannot be read at that moment is reported and the keys in use are kept."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp = self._file_stamp()
        super().__init__(read_key_file(path), where=str(path))

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _follow(self) -> None:
        stamp = self._file_stamp()
        if stamp is None or stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            fresh = Keyring(read_key_file(self.path), where=str(self.path))
        except (KeyringError, OSError) as exc:
            logger.warning("the key file %s changed but cannot be used (%s); keeping the keys in use", self.path, exc)
            return
        if fresh.primary_key_id != self.primary_key_id or fresh.key_ids != self.key_ids:
            logger.info("re-read %s: encrypting with key %s from now on", self.path, fresh.primary_key_id)
        self._ciphers, self.primary_key_id, self._primary = fresh._ciphers, fresh.primary_key_id, fresh._primary

    def encrypt(self, plaintext: str, context: str) -> str:
        self._follow()
        return super().encrypt(plaintext, context)

    def decrypt(self, token: str, context: str) -> str:
        self._follow()
        return super().decrypt(token, context)


def read_key_file(path: Path) -> list[str]:
    """The keys in a key file, one per line, refusing a file others can read."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyringError(f"Key file {path} can be read by other users; run `chmod 600 {path}`.")
    keys = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if not keys:
        raise KeyringError(f"Key file {path} holds no key; restore it from your backup.")
    return keys


def write_key_file(path: Path, keys: Sequence[str], *, create: bool) -> None:
    """Write keys with mode 0600. `create=True` refuses to overwrite an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = "".join(f"{key}\n" for key in keys)
    if create:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
