from __future__ import annotations

import socket
from typing import Any

import anyio
import pytest

from mcp_server.calls.identity import JwtVerifier, StaticTokenVerifier
from tests.support.clock import Clock
from tests.support.provider import AuthServer

pytestmark = pytest.mark.anyio


async def test_static_tokens_map_to_their_users_and_nothing_else() -> None:
    verifier = StaticTokenVerifier({"tok-alice": "alice@example.com", "tok-bob": "bob@example.com"}, resource="r")
    alice = await verifier.verify_token("tok-alice")
    assert alice is not None and alice.subject == "alice@example.com" and alice.resource == "r"
    assert (await verifier.verify_token("tok-bob")).subject == "bob@example.com"  # type: ignore[union-attr]
    for wrong in ("", "tok-alic", "tok-alicex", "TOK-ALICE", "alice@example.com"):
        assert await verifier.verify_token(wrong) is None, wrong


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again on return: nothing listens there


async def verify_many(verifier: JwtVerifier, token: str, n: int = 20) -> list[Any]:
    results: list[Any] = []

    async def one() -> None:
        results.append(await verifier.verify_token(token))

    async with anyio.create_task_group() as tg:
        for _ in range(n):
            tg.start_soon(one)
    return results


async def test_a_down_jwks_is_fetched_once_at_a_time_and_backs_off(auth_server: AuthServer) -> None:
    clock = Clock()
    verifier = JwtVerifier(
        issuer=auth_server.issuer, jwks_url=f"http://127.0.0.1:{closed_port()}/jwks", audience="aud", clock=clock
    )
    token = auth_server.mint_jwt(sub="alice", aud="aud")
    assert await verify_many(verifier, token) == [None] * 20
    assert verifier.fetches == 1  # twenty unknown tokens at once: one fetch, the others wait for its outcome
    assert await verify_many(verifier, token) == [None] * 20
    assert verifier.fetches == 1  # failures are remembered: no fetch per token

    clock.now += JwtVerifier.JWKS_MIN_INTERVAL + 1
    await verify_many(verifier, token)
    assert verifier.fetches == 2
    clock.now += JwtVerifier.JWKS_MIN_INTERVAL + 1  # the back-off doubled after the second failure
    await verify_many(verifier, token)
    assert verifier.fetches == 2
    clock.now += JwtVerifier.JWKS_MIN_INTERVAL * 2

    verifier._jwks_url = auth_server.jwks_uri  # the issuer is back
    accepted = await verify_many(verifier, token)
    assert verifier.fetches == 3 and all(a is not None and a.subject == "alice" for a in accepted)


async def test_unknown_keys_refetch_the_jwks_at_most_once_per_interval(auth_server: AuthServer) -> None:
    verifier = JwtVerifier(issuer=auth_server.issuer, jwks_url=auth_server.jwks_uri, audience="aud", clock=Clock())
    assert (await verifier.verify_token(auth_server.mint_jwt(sub="alice", aud="aud"))) is not None
    forged = "eyJhbGciOiJSUzI1NiIsImtpZCI6InVua25vd24ifQ.eyJzdWIiOiJ4In0.c2ln"
    assert await verify_many(verifier, forged) == [None] * 20
    assert verifier.fetches == 1
