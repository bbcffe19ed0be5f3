"""Bearer auth on the MCP endpoints and the one HTTP app around them, served by uvicorn on a real socket.

The issuer is played by a JWKS served over HTTP from a thread, whose keys a test signs with and rotates;
the MCP SDK's own client calls over Streamable HTTP (both protocol eras, stateful and stateless) and SSE.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import pickle
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from joserfc import jwk, jwt
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from mcp_server.calls.identity import JwtVerifier
from mcp_server.serving.listeners import QuietServer
from mcp_server.serving.runtime import Runtime, open_runtime
from mcp_server.serving.shared_pages import bind
from mcp_server.serving.web_app import create_http_app
from tests.support.clock import Clock

pytestmark = pytest.mark.anyio

ALICE = "static-alice-7c1e0b9d2f"
BOB = "static-bob-44d0e6a1c3"
TOOLKIT = '''
from mcp_server import ToolContext, tool

TOOLKIT_NAME = "Probe"


@tool
def whoami(context: ToolContext) -> str:
    """The user this call acts for."""
    return context.user_id
'''


class Issuer:
    """An identity provider's JWKS, served over HTTP; signs JWTs with its keys (ES256) and rotates them."""

    def __init__(self) -> None:
        self.keys = [self._new_key("k1")]
        self.served = list(self.keys)
        self.fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.fetches += 1
                body = json.dumps({"keys": [k.as_dict(private=False) for k in issuer.served]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    @staticmethod
    def _new_key(kid: str) -> jwk.ECKey:
        return jwk.ECKey.generate_key("P-256", parameters={"kid": kid, "alg": "ES256", "use": "sig"}, private=True)

    def rotate(self, kid: str, *, keep_old: bool) -> None:
        """A new signing key; the JWKS keeps the old one beside it, or drops it."""
        key = self._new_key(kid)
        self.served = [*self.served, key] if keep_old else [key]
        self.keys.append(key)

    def mint(self, sub: str, aud: str, *, expires_in: float = 3600, key: jwk.ECKey | None = None, **claims: Any) -> str:
        key = key or self.keys[-1]
        now = int(time.time())
        body = {"iss": self.url, "sub": sub, "aud": aud, "iat": now, "exp": int(now + expires_in), **claims}
        return jwt.encode({"alg": "ES256", "kid": key.kid}, body, key)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    served = Issuer()
    yield served
    served.close()


@dataclass
class Served:
    url: str
    runtime: Runtime
    tool: str

    def mcp(self, token: str | None, *, transport: str = "http", mode: str = "auto") -> Any:
        """A connected MCP client (an async context manager) presenting `token`."""
        return connect(f"{self.url}/mcp" if transport == "http" else f"{self.url}/sse", token, transport, mode)

    async def whoami(self, token: str | None, **how: str) -> str:
        async with self.mcp(token, **how) as client:
            result = await client.call_tool(self.tool, {})
        assert not result.is_error, result
        return str(result.structured_content["result"])


@contextlib.asynccontextmanager
async def connect(url: str, token: str | None, transport: str, mode: str) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if transport == "http":
        async with httpx2.AsyncClient(headers=headers, timeout=15, trust_env=False) as http:
            async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:  # type: ignore[arg-type]
                yield client
    else:
        async with Client(sse_client(url, headers=headers), mode=mode) as client:  # type: ignore[arg-type]
            yield client


@pytest.fixture
def serve(make_settings: Any, tmp_path: Path, issuer: Issuer) -> Any:
    toolkit = tmp_path / "probe_toolkit.py"
    toolkit.write_text(TOOLKIT)

    @contextlib.asynccontextmanager
    async def start(*, jwt_auth: bool = True, **app_options: bool) -> AsyncIterator[Served]:
        sock = bind("127.0.0.1", 0)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        mcp_auth: dict[str, Any] = {"tokens": {ALICE: "alice", BOB: "bob"}}
        if jwt_auth:
            mcp_auth.update(jwt_issuer=issuer.url, jwks_url=f"{issuer.url}/jwks")
        settings = make_settings(mcp_auth=mcp_auth, api={"verification": "none"})
        try:
            async with open_runtime(settings, public_url=url, toolkits=[str(toolkit)]) as runtime:
                server = QuietServer.for_app(create_http_app(runtime, **app_options), "WARNING")
                async with anyio.create_task_group() as tg:
                    tg.start_soon(lambda: server.serve(sockets=[sock]))
                    while not server.started:
                        await anyio.sleep(0.01)
                    try:
                        yield Served(url, runtime, next(iter(runtime.catalog)).mcp_name)
                    finally:
                        server.should_exit = True
        finally:
            sock.close()

    return start


async def request(method: str, url: str, **options: Any) -> httpx2.Response:
    """One request on its own connection (the server runs on this event loop: no blocking client)."""
    async with httpx2.AsyncClient(timeout=10, trust_env=False) as http:
        return await http.request(method, url, **options)


async def post_initialize(url: str, token: str | bytes | None, **headers: Any) -> httpx2.Response:
    if token is not None:
        headers["Authorization"] = b"Bearer " + token if isinstance(token, bytes) else f"Bearer {token}"
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    return await request(
        "POST", f"{url}/mcp", json=body, headers={"Accept": "application/json, text/event-stream", **headers}
    )


def assert_challenged(response: httpx2.Response, url: str, case: str = "") -> None:
    assert response.status_code == 401, (case, response.text)
    assert response.headers["www-authenticate"] == (
        'Bearer error="invalid_token", error_description="Authentication required", '
        f'resource_metadata="{url}/.well-known/oauth-protected-resource/mcp"'
    )
    assert response.json() == {"error": "invalid_token", "error_description": "Authentication required"}


# ---------------------------------------------------------------- static tokens and the challenge


async def test_static_tokens_act_as_their_user_and_anything_else_gets_the_rfc9728_challenge(serve: Any) -> None:
    async with serve(jwt_auth=False) as served:
        assert await served.whoami(ALICE) == "alice"
        assert await served.whoami(BOB) == "bob"
        for wrong in (None, ALICE[:-1], ALICE + "x", ALICE.upper(), "alice"):
            assert_challenged(await post_initialize(served.url, wrong), served.url, str(wrong))
        for header in (f"Basic {ALICE}", "Bearer", ALICE):
            assert_challenged(await post_initialize(served.url, None, Authorization=header), served.url, header)
        metadata = (await request("GET", f"{served.url}/.well-known/oauth-protected-resource/mcp")).json()
        assert metadata["resource"] == f"{served.url}/mcp"
        # static tokens come from no authorization server: none is named, so OAuth clients are not sent to
        # register at one that is not there
        assert "authorization_servers" not in metadata and metadata["bearer_methods_supported"] == ["header"]
        # the legacy SSE endpoints are behind the same check
        assert_challenged(await request("GET", f"{served.url}/sse"), served.url)
        assert_challenged(await request("POST", f"{served.url}/messages/?session_id=00", json={}), served.url)


async def test_a_session_opened_with_one_token_is_not_found_with_another(serve: Any) -> None:
    async with serve(jwt_auth=False) as served:
        opened = await post_initialize(served.url, ALICE)
        assert opened.status_code == 200
        session = opened.headers["mcp-session-id"]
        listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
        headers = {
            "Accept": "application/json, text/event-stream",
            "Mcp-Session-Id": session,
            "MCP-Protocol-Version": "2025-11-25",
        }
        as_bob = await request(
            "POST", f"{served.url}/mcp", json=listing, headers={**headers, "Authorization": f"Bearer {BOB}"}
        )
        assert as_bob.status_code == 404
        as_alice = await request(
            "POST", f"{served.url}/mcp", json=listing, headers={**headers, "Authorization": f"Bearer {ALICE}"}
        )
        assert as_alice.status_code == 200


# ---------------------------------------------------------------- JWTs: verified once, kept by digest until exp


async def test_a_jwt_is_kept_by_its_digest_and_never_served_after_its_exp(serve: Any, issuer: Issuer) -> None:
    async with serve() as served:
        audience = f"{served.url}/mcp"
        lasting = issuer.mint("carol", audience)
        assert await served.whoami(lasting) == "carol"
        assert await served.whoami(lasting) == "carol"
        verifier = served.runtime.identities.jwt  # type: ignore[union-attr]
        assert verifier is not None
        verifier.now = now = Clock(time.time())  # wall time, moved by hand below
        brief = issuer.mint("dave", audience, expires_in=5)
        assert await served.whoami(brief) == "dave"
        assert issuer.fetches == 1

        cache = verifier._cache
        assert set(cache) == {hashlib.sha256(t.encode()).digest() for t in (lasting, brief)}
        # everything an entry holds but the issuer's key set (public keys, and not picklable)
        dump = pickle.dumps({digest: (kept.caller, kept.expires_at) for digest, kept in cache.items()})
        for token in (lasting, brief):
            assert token.encode() not in dump and token.split(".")[2].encode() not in dump
            assert token not in repr(cache)
        assert all(kept.caller.access_token.token == "" for kept in cache.values())

        # past its exp (the verifier allows 30 s of clock skew on exp; the bearer layer does not)
        now.now = cache[hashlib.sha256(brief.encode()).digest()].expires_at
        assert_challenged(await post_initialize(served.url, brief), served.url)
        assert hashlib.sha256(brief.encode()).digest() not in cache
        assert await served.whoami(lasting) == "carol"


async def test_jwts_with_wrong_audience_issuer_key_or_claims_get_the_challenge(serve: Any, issuer: Issuer) -> None:
    async with serve() as served:
        audience = f"{served.url}/mcp"
        stranger = Issuer()  # same shape, keys the JWKS does not have
        try:
            forged = stranger.mint("carol", audience)
        finally:
            stranger.close()
        good = issuer.mint("carol", audience)
        header, payload, signature = good.split(".")
        refused = {
            "wrong-audience": issuer.mint("carol", "http://127.0.0.1:1/mcp"),
            "wrong-issuer": issuer.mint("carol", audience, iss="http://evil.test"),
            "expired": issuer.mint("carol", audience, expires_in=-5),
            "no-subject": jwt.encode(
                {"alg": "ES256", "kid": "k1"},
                {"iss": issuer.url, "aud": audience, "exp": int(time.time()) + 600},
                issuer.keys[0],
            ),
            "unknown-key": forged,
            "tampered": f"{header}.{payload}.{signature[::-1]}",
        }
        for name, token in refused.items():
            assert_challenged(await post_initialize(served.url, token), served.url, name)
        assert_challenged(await post_initialize(served.url, "é".encode() * 20), served.url, "not-ascii")
        assert not served.runtime.identities.jwt._cache  # type: ignore[union-attr]  # refusals are not kept
        assert await served.whoami(good) == "carol"


async def test_a_rotated_jwks_admits_the_new_key_and_drops_tokens_of_a_removed_one(
    serve: Any, issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(JwtVerifier, "JWKS_MIN_INTERVAL", 0.0)  # the issuer's refetch limit, not waited for here
    async with serve() as served:
        audience = f"{served.url}/mcp"
        old = issuer.mint("carol", audience)
        assert await served.whoami(old) == "carol"

        issuer.rotate("k2", keep_old=True)  # usual rotation: both keys served for a while
        new = issuer.mint("erin", audience)
        assert await served.whoami(new) == "erin"  # unknown kid: the JWKS is fetched again
        assert await served.whoami(old) == "carol"  # its key is still served
        fetches = issuer.fetches

        issuer.rotate("k3", keep_old=False)  # the old keys withdrawn
        newest = issuer.mint("frank", audience)
        assert await served.whoami(newest) == "frank"
        assert issuer.fetches > fetches
        assert_challenged(await post_initialize(served.url, old), served.url)  # kept, but its key is gone
        assert_challenged(await post_initialize(served.url, new), served.url)


async def test_kept_tokens_are_checked_again_once_the_keys_are_old(serve: Any, issuer: Issuer) -> None:
    async with serve() as served:
        verifier = served.runtime.identities.jwt  # type: ignore[union-attr]
        assert verifier is not None
        verifier.clock = clock = Clock()  # before the first fetch: the keys' age is counted on it
        token = issuer.mint("carol", f"{served.url}/mcp")
        assert await served.whoami(token) == "carol"
        issuer.rotate("k2", keep_old=False)  # nobody presents a new token: only the keys' age makes us look
        assert await served.whoami(token) == "carol"  # the keys are still fresh: served from what was kept
        clock.now += JwtVerifier.JWKS_MAX_AGE
        assert_challenged(await post_initialize(served.url, token), served.url)


# ---------------------------------------------------------------- one Host/Origin check, on every route


async def test_foreign_host_or_origin_is_refused_on_every_route_even_with_a_good_token(serve: Any) -> None:
    async with serve(jwt_auth=False) as served:
        paths = (
            "/mcp",
            "/sse",
            "/messages/?session_id=00",
            "/v1/health",
            "/healthz",
            "/connect/x",
            "/.well-known/oauth-protected-resource/mcp",
        )
        for path in paths:
            for token in (None, ALICE):
                auth = {"Authorization": f"Bearer {token}"} if token else {}
                host = await request("GET", f"{served.url}{path}", headers={"Host": "evil.test", **auth})
                origin = await request("GET", f"{served.url}{path}", headers={"Origin": "http://evil.test", **auth})
                assert host.status_code == 421, path
                assert origin.status_code == 403, path
        assert (await request("GET", f"{served.url}/healthz")).status_code == 200
        allowed = await post_initialize(served.url, ALICE, Origin=served.url)
        assert allowed.status_code == 200


# ---------------------------------------------------------------- both eras, both transports, bearer on


@pytest.mark.parametrize(
    "options", [{}, {"stateless": True, "json_response": True}], ids=["stateful", "stateless-json"]
)
async def test_every_transport_and_era_acts_as_the_bearer(serve: Any, issuer: Issuer, options: dict[str, bool]) -> None:
    async with serve(**options) as served:
        token = issuer.mint("carol", f"{served.url}/mcp")
        eras = set()
        for mode in ("auto", "legacy"):
            async with served.mcp(ALICE, mode=mode) as client:
                result = await client.call_tool(served.tool, {})
                assert result.structured_content == {"result": "alice"}
                eras.add(client.protocol_version)
            assert await served.whoami(token, mode=mode) == "carol"
        assert eras == {"2026-07-28", "2025-11-25"}
        assert await served.whoami(BOB, transport="sse", mode="legacy") == "bob"
        assert await served.whoami(token, transport="sse", mode="legacy") == "carol"


async def test_bearer_tokens_never_reach_a_log_line(
    serve: Any, issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with serve() as served:
        audience = f"{served.url}/mcp"
        good, expired = issuer.mint("carol", audience), issuer.mint("carol", audience, expires_in=-5)
        assert await served.whoami(good) == "carol"
        assert await served.whoami(ALICE) == "alice"
        for token in (expired, ALICE + "x", issuer.mint("carol", "http://127.0.0.1:1/mcp")):
            assert (await post_initialize(served.url, token)).status_code == 401
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "bearer JWT refused" in logged  # the refusals were logged, by kind
    for secret in (good, expired, ALICE, good.split(".")[2]):
        assert secret not in logged
