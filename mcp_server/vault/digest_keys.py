"""Keys of keyed digests (the audit trail's argument digests, an approval's call digest) that outlive key rotation.

A digest is only useful while its key stays the same: equal calls must match across days, and an approval asked
before a restart must still match the call it approves after it. Deriving these keys from the encryption key in
use would change them with every `authmcp keys rotate`. So each is made once, stored encrypted in `digest_keys`
like any other secret column, and re-encrypted (never changed) by rotation.
"""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from mcp_server.vault.outages import translated
from mcp_server.vault.schema import digest_keys
from mcp_server.vault.sealing import digest_key_context

if TYPE_CHECKING:
    from mcp_server.vault.store import Vault

__all__ = ["APPROVAL_CALL", "AUDIT_ARGUMENTS", "digest_key"]

AUDIT_ARGUMENTS = "audit arguments digest"
APPROVAL_CALL = "approval call digest"


@translated
async def digest_key(vault: Vault, purpose: str) -> bytes:
    """The 256-bit key of one kind of digest, the same for the life of the database.

    Made on first use from the encryption key then in use (HKDF, as before this table existed, so digests already
    in the trail keep matching); from then on read back, whatever keys are configured later.

    Raises:
        DecryptionError: The stored key was encrypted with a key that is not configured.
    """
    context = digest_key_context(purpose)
    query = select(digest_keys.c.value).where(digest_keys.c.id == purpose)
    async with vault.engine.connect() as conn:
        sealed = (await conn.execute(query)).scalar_one_or_none()
    if sealed is None:
        fresh = base64.urlsafe_b64encode(vault.keyring.derive(purpose)).decode()
        try:
            async with vault.engine.begin() as conn:
                await conn.execute(
                    insert(digest_keys).values(
                        id=purpose,
                        value=vault.keyring.encrypt(fresh, context),
                        key_id=vault.keyring.primary_key_id,
                        created_at=time.time(),
                    )
                )
        except IntegrityError:  # another process made it first: use theirs
            pass
        async with vault.engine.connect() as conn:
            sealed = (await conn.execute(query)).scalar_one()
    return base64.urlsafe_b64decode(vault.keyring.decrypt(sealed, context))
