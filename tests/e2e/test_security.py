"""The bad paths of docs/security.md §5, against real processes: cases 1, 2, 4 (see test_flows), 5, 6, 7, 8,
10, 11, 13 and 15. Each test names its case."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, assert_clean, authorize_in_browser, stored_tokens, texts
from tests.support.fixtures import CLIENT_SECRET

pytestmark = pytest.mark.anyio

# These cases test other defences, with user verification explicitly off; test_consent.py attacks verification.
UNVERIFIED = {"verification": "none"}


def browser() -> httpx2.AsyncClient:
    return httpx2.AsyncClient(timeout=15, trust_env=False)


async def pending_link(stack: Stack, token: str | None = None) -> str:
    async with mcp_client(stack, "http", token=token) as client:
        result = await client.call_tool("Demo_WhoAmI", {})
    return str(result.meta["url"])


def expire_stored_tokens(stack: Stack) -> None:
    """Make the stored access token stale (its time run out), so the next call refreshes it first."""
    with sqlite3.connect(Path(stack.settings["data_dir"]) / "authmcp.db") as db:
        db.execute("update connections set expires_at = ?", (time.time() - 5,))


def database_bytes(stack: Stack) -> bytes:
    return b"".join(p.read_bytes() for p in Path(stack.settings["data_dir"]).glob("authmcp.db*"))


# ---------------------------------------------------------------- case 1: bad state never reaches the token endpoint


async def test_callback_with_missing_unknown_reused_or_expired_state_is_400(stack: Stack) -> None:
    stack.start_http()
    async with browser() as b:
        missing = await b.get(f"{stack.base_url}/oauth/callback", params={"code": "abc"})
        unknown = await b.get(f"{stack.base_url}/oauth/callback", params={"code": "abc", "state": "forged"})
        assert missing.status_code == 400 and unknown.status_code == 400
        assert "forged" not in unknown.text

        # expired: the flow's time ran out between the provider's consent and the callback
        callback = await stack.provider.aconsent(b, await pending_link(stack, None), "alice")
        with sqlite3.connect(Path(stack.settings["data_dir"]) / "authmcp.db") as db:
            db.execute("update flows set expires_at = 0 where status = 'pending'")
        expired = await b.get(callback)
        assert expired.status_code == 400

        # reused: a callback that already completed a flow
        callback = await stack.provider.aconsent(b, await pending_link(stack), "alice")
        assert (await b.get(callback)).status_code == 303
        reused = await b.get(callback)
        assert reused.status_code == 400
        assert reused.headers["cache-control"] == "no-store"
    assert stack.provider.stats()["token_requests"]["authorization_code"] == 1


# ---------------------------------------------------------------- case 2: an injected code fails PKCE


async def test_attackers_code_on_the_victims_callback_fails_and_stores_nothing(stack_factory: Any) -> None:
    stack = stack_factory(mcp_auth={"tokens": {"tok-victim": "victim", "tok-attacker": "attacker"}}, api=UNVERIFIED)
    stack.start_http()
    async with browser() as b:
        # the attacker gets a code for their own flow and keeps it
        attacker_callback = await stack.provider.aconsent(b, await pending_link(stack, "tok-attacker"), "mallory")
        attacker_code = parse_qs(urlsplit(attacker_callback).query)["code"][0]
        # the victim opens their link: authmcp made a state and a PKCE verifier for it
        victim_link = await pending_link(stack, "tok-victim")
        to_provider = await b.get(victim_link)
        victim_state = parse_qs(urlsplit(to_provider.headers["location"]).query)["state"][0]
        injected = await b.get(
            f"{stack.base_url}/oauth/callback", params={"code": attacker_code, "state": victim_state}
        )
        assert injected.status_code == 400 and attacker_code not in injected.text
    with sqlite3.connect(Path(stack.settings["data_dir"]) / "authmcp.db") as db:
        assert db.execute("select count(*) from connections").fetchone()[0] == 0
    async with mcp_client(stack, "http", token="tok-victim") as victim:
        assert (await victim.call_tool("Demo_WhoAmI", {})).is_error


# ---------------------------------------------------------------- case 5: bearer tokens are verified


def mcp_post(stack: Stack, token: str | None) -> httpx2.Response:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    return httpx2.post(f"{stack.base_url}/mcp", json=body, headers=headers, timeout=10, trust_env=False)


async def test_bearer_jwts_with_wrong_audience_issuer_expiry_or_signature_get_401(stack_factory: Any) -> None:
    stack = stack_factory(mcp_auth={"jwt_issuer": "ISSUER", "jwks_url": "JWKS"}, api=UNVERIFIED)
    stack.settings["mcp_auth"] = {"jwt_issuer": stack.provider.issuer, "jwks_url": stack.provider.jwks_uri}
    stack.start_http()
    audience = f"{stack.base_url}/mcp"
    good = stack.provider.mint_jwt("alice", audience)
    assert mcp_post(stack, good).status_code == 200
    header, payload, signature = good.split(".")
    forged_signature = signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")
    bad = {
        "none": None,
        "wrong-audience": stack.provider.mint_jwt("alice", "http://127.0.0.1:1/mcp"),
        "wrong-issuer": stack.provider.mint_jwt("alice", audience, claims={"iss": "http://evil.test"}),
        "expired": stack.provider.mint_jwt("alice", audience, expires_in=-600),
        "bad-signature": f"{header}.{payload}.{forged_signature}",
        "garbage": "not-a-jwt",
    }
    for name, token in bad.items():
        response = mcp_post(stack, token)
        assert response.status_code == 401, name
        assert "resource_metadata=" in response.headers["www-authenticate"], name
    metadata = httpx2.get(f"{stack.base_url}/.well-known/oauth-protected-resource/mcp", timeout=10).json()
    assert metadata["resource"] == audience and metadata["authorization_servers"] == [stack.provider.issuer]
    # the subject of a good token is the user: its connection is its own
    async with mcp_client(stack, "http", token=good) as client:
        result = await client.call_tool("Demo_WhoAmI", {})
    await authorize_in_browser(stack.provider, result.meta["url"], "alice")
    async with mcp_client(stack, "http", token=good) as client:
        assert (await client.call_tool("Demo_WhoAmI", {})).structured_content["user_id"] == "alice"


# ---------------------------------------------------------------- case 6: DNS rebinding


async def test_foreign_host_or_origin_is_refused_on_every_route(stack: Stack) -> None:
    stack.start_http()
    for path in ("/mcp", "/sse", "/healthz", "/connect/x", "/oauth/callback"):
        host = httpx2.get(f"{stack.base_url}{path}", headers={"Host": "evil.test"}, timeout=10)
        origin = httpx2.get(f"{stack.base_url}{path}", headers={"Origin": "http://evil.test"}, timeout=10)
        assert host.status_code == 421, path
        assert origin.status_code == 403, path
    assert httpx2.get(f"{stack.base_url}/healthz", timeout=10).status_code == 200


# ---------------------------------------------------------------- case 7: canaries never leak


async def test_token_values_never_reach_output_results_pages_or_the_database_file(stack_factory: Any) -> None:
    # every call finds the access token stale: every call also exercises a refresh
    stack = stack_factory(
        connection_cache_seconds=0,
        provider_options={"access_ttl": 30},
        mcp_auth={"tokens": {"CANARY-BEARER-9d2e4b": "alice"}},
        api=UNVERIFIED,
    )
    stack.start_http()
    seen: list[str] = []
    async with mcp_client(stack, "http", token="CANARY-BEARER-9d2e4b") as client:
        first = await client.call_tool("Demo_WhoAmI", {})
        seen.append(json.dumps(first.model_dump(mode="json")))
        page = await authorize_in_browser(stack.provider, first.meta["url"], "alice")
        seen.append(page.text)
        issued = await stored_tokens(stack, "alice")
        for _ in range(2):
            expire_stored_tokens(stack)
            result = await client.call_tool("Demo_WhoAmI", {})
            assert not result.is_error
            seen.append(json.dumps(result.model_dump(mode="json")))
    refreshed = await stored_tokens(stack, "alice")
    assert refreshed != issued and stack.provider.stats()["token_requests"]["refresh_token"] >= 2
    secrets = [t for t in (*issued, *refreshed) if t] + ["CANARY-BEARER-9d2e4b", CLIENT_SECRET]
    stack.stop()
    assert_clean(stack.output(), secrets)
    assert_clean("\n".join(seen), secrets)
    assert_clean(database_bytes(stack).decode("latin-1"), secrets)


async def test_stdio_stdout_carries_only_json_rpc(stack: Stack) -> None:
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "Demo_WhoAmI", "arguments": {}}},
    ]
    stdin = "".join(json.dumps(m) + "\n" for m in messages)
    process = subprocess.Popen(
        [sys.executable, *stack.serve_args("stdio")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=stack.env(),
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(stdin.encode())
    process.stdin.flush()
    lines = [process.stdout.readline(), process.stdout.readline()]
    process.stdin.close()  # end of input: the server exits
    assert process.wait(30) == 0
    assert process.stderr is not None
    out, err = process.stdout.read(), process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    answers = [json.loads(line) for line in [*lines, *out.splitlines()] if line.strip()]
    assert [a.get("id") for a in answers] == [1, 2]
    assert answers[1]["result"]["isError"] is True and "/connect/" in answers[1]["result"]["content"][0]["text"]
    assert b"flow" in err  # the logs went to stderr


# ---------------------------------------------------------------- case 8: a token endpoint that echoes secrets


@pytest.mark.parametrize("behavior", ["error_400_echo", "error_500_html"])
async def test_token_endpoint_errors_give_a_clear_page_that_leaks_nothing(stack: Stack, behavior: str) -> None:
    stack.start_http()
    async with browser() as b:
        callback = await stack.provider.aconsent(b, await pending_link(stack), "alice")
        code = parse_qs(urlsplit(callback).query)["code"][0]
        stack.provider.set_behavior(token_endpoint=behavior)
        page = await b.get(callback)
    assert page.status_code in (400, 502)
    assert "Go back to your app and try the tool again" in page.text and "Traceback" not in page.text  # said once
    assert code not in page.text and code not in stack.output()
    async with mcp_client(stack, "http") as client:
        result = await client.call_tool("Demo_WhoAmI", {})
    assert result.is_error and "/connect/" in texts(result)


# ---------------------------------------------------------------- case 10: refresh without a new refresh token


async def test_refresh_answered_without_refresh_token_keeps_the_old_one(stack_factory: Any) -> None:
    stack = stack_factory(connection_cache_seconds=0, provider_options={"access_ttl": 30, "rotate_refresh": False})
    stack.start_http()
    async with mcp_client(stack, "http") as client:
        await authorize_in_browser(stack.provider, (await client.call_tool("Demo_WhoAmI", {})).meta["url"], "alice")
        _, original_refresh = await stored_tokens(stack, "local-user")
        for _ in range(3):
            expire_stored_tokens(stack)
            assert not (await client.call_tool("Demo_WhoAmI", {})).is_error
    assert stack.provider.stats()["token_requests"]["refresh_token"] == 3
    assert (await stored_tokens(stack, "local-user"))[1] == original_refresh


async def test_rotated_refresh_tokens_are_stored_so_the_grant_stays_alive(stack_factory: Any) -> None:
    stack = stack_factory(connection_cache_seconds=0, provider_options={"access_ttl": 30, "rotate_refresh": True})
    stack.start_http()
    async with mcp_client(stack, "http") as client:
        await authorize_in_browser(stack.provider, (await client.call_tool("Demo_WhoAmI", {})).meta["url"], "alice")
        for _ in range(3):
            expire_stored_tokens(stack)
            assert not (await client.call_tool("Demo_WhoAmI", {})).is_error
    assert stack.provider.stats()["token_requests"]["refresh_token"] == 3


# ---------------------------------------------------------------- case 11: the provider revokes the grant


async def test_revoked_grant_turns_into_authorization_required_for_that_user_only(stack_factory: Any) -> None:
    stack = stack_factory(mcp_auth={"tokens": {"tok-a": "alice", "tok-b": "bob"}}, api=UNVERIFIED)
    stack.start_http()
    for token, username in (("tok-a", "alice"), ("tok-b", "bob")):
        async with mcp_client(stack, "http", token=token) as client:
            link = (await client.call_tool("Demo_WhoAmI", {})).meta["url"]
            await authorize_in_browser(stack.provider, link, username)
    stack.provider.revoke_user("alice")
    stack.provider.reset_stats()
    async with mcp_client(stack, "http", token="tok-a") as alice:
        result = await alice.call_tool("Demo_WhoAmI", {})
    assert result.is_error and "/connect/" in texts(result) and "Traceback" not in texts(result)
    assert stack.provider.stats()["token_requests"]["refresh_token"] == 1
    async with mcp_client(stack, "http", token="tok-b") as bob:
        assert (await bob.call_tool("Demo_WhoAmI", {})).structured_content["provider_profile"]["sub"] == "bob"
    with sqlite3.connect(Path(stack.settings["data_dir"]) / "authmcp.db") as db:
        statuses = dict(db.execute("select user_id, status from connections").fetchall())
    assert statuses == {"alice": "needs_reauth", "bob": "active"}


# ---------------------------------------------------------------- case 13: a token endpoint that hangs


async def test_hanging_token_endpoint_fails_within_the_timeout_and_exchanges_once(stack: Stack) -> None:
    stack.start_http()  # http_timeout_seconds = 3; the provider hangs 30 s
    async with browser() as b:
        callback = await stack.provider.aconsent(b, await pending_link(stack), "alice")
        stack.provider.set_behavior(token_endpoint="hang")
        page = await b.get(callback)  # the browser gives up after 15 s: authmcp must answer before
        assert page.status_code == 502 and "did not answer in time" in page.text
        stack.provider.set_behavior(token_endpoint="normal")
        reloaded = await b.get(callback)
        assert reloaded.status_code == 400
    assert stack.provider.stats()["token_requests"]["authorization_code"] == 1


# ---------------------------------------------------------------- case 15: keys


def authmcp(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server", *args, "--config", str(stack.config_path)],
        capture_output=True,
        text=True,
        env=stack.env(),
        timeout=60,
    )


async def test_missing_key_refuses_to_start_and_rotation_keeps_everything_readable(stack: Stack) -> None:
    process = stack.start_http()
    async with mcp_client(stack, "http") as client:
        await authorize_in_browser(stack.provider, (await client.call_tool("Demo_WhoAmI", {})).meta["url"], "alice")
    access, refresh = await stored_tokens(stack, "local-user")
    process.terminate()
    process.wait(10)
    assert access.encode() not in database_bytes(stack)

    listed = authmcp(stack, "connections", "list")
    assert listed.returncode == 0 and "local-user" in listed.stdout and "demo" in listed.stdout
    assert_clean(listed.stdout + listed.stderr, [access, refresh or ""])

    rotated = authmcp(stack, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    key_file = Path(stack.settings["data_dir"]) / "keys"
    assert len(key_file.read_text().split()) == 2
    assert await stored_tokens(stack, "local-user") == (access, refresh)

    key_file.rename(key_file.with_suffix(".lost"))
    refused = subprocess.run(
        [sys.executable, *stack.serve_args("http")], capture_output=True, text=True, env=stack.env(), timeout=60
    )
    assert refused.returncode == 2
    assert "Restore the key file" in refused.stderr and "Traceback" not in refused.stderr
    assert not key_file.exists()
