from __future__ import annotations

import pytest

from mcp_server.identity import StaticTokenVerifier

pytestmark = pytest.mark.anyio


async def test_static_tokens_map_to_their_users_and_nothing_else() -> None:
    verifier = StaticTokenVerifier({"tok-alice": "alice@example.com", "tok-bob": "bob@example.com"}, resource="r")
    alice = await verifier.verify_token("tok-alice")
    assert alice is not None and alice.subject == "alice@example.com" and alice.resource == "r"
    assert (await verifier.verify_token("tok-bob")).subject == "bob@example.com"  # type: ignore[union-attr]
    for wrong in ("", "tok-alic", "tok-alicex", "TOK-ALICE", "alice@example.com"):
        assert await verifier.verify_token(wrong) is None, wrong
