"""The steps of connecting an OAuth client through the front door, as an HTTP client and a browser (cookies kept)."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from tests.e2e.conftest import FRONT_DOOR_CLIENT_ID, FRONT_DOOR_CLIENT_SECRET, Stack

REDIRECT_URI = "http://127.0.0.1:33418/callback"
_HIDDEN = re.compile(r'<input type="hidden" name="(request|csrf)" value="([^"]*)">')


def front_door_stack(
    stack_factory: Any,
    *serve_args: str,
    sign_in_scopes: tuple[str, ...] = ("openid", "profile"),
    env: dict[str, str] | None = None,
    **settings: Any,
) -> Stack:
    """authmcp with `[front_door]` signing people in at the test provider, running: as an OpenID provider (its ID
    token verified) unless `sign_in_scopes` leaves out `openid` (a plain OAuth2 provider, read through userinfo).
    `env`: variables added to the process's environment."""
    stack: Stack = stack_factory(provider_options={"front_door_client": True}, **settings)
    provider = stack.provider
    stack.settings["public_url"] = stack.base_url
    stack.settings["providers"]["signin"] = {
        "name": "Test sign-in",
        "authorize_url": provider.authorization_endpoint,
        "token_url": provider.token_endpoint,
        "userinfo_url": provider.userinfo_endpoint,
        "issuer": provider.issuer,
        "client_id": FRONT_DOOR_CLIENT_ID,
        "client_secret": FRONT_DOOR_CLIENT_SECRET,
        "scopes": list(sign_in_scopes),
    }
    stack.settings["front_door"] = {"sign_in": "signin", **stack.settings.get("front_door", {})}
    stack.start_http(*serve_args, env=stack.env(**(env or {})))
    return stack


@pytest.fixture
def door(stack_factory: Any) -> Stack:
    return front_door_stack(stack_factory)


@pytest.fixture
def browser() -> Iterator[httpx2.Client]:
    """A browser: keeps cookies, follows no redirect by itself."""
    with httpx2.Client(timeout=15, trust_env=False, follow_redirects=False) as client:
        yield client


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def register(stack: Stack, **metadata: Any) -> str:
    body = {
        "redirect_uris": [REDIRECT_URI],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "client_name": "Test client",
        **metadata,
    }
    answer = httpx2.post(f"{stack.base_url}/register", json=body, timeout=10)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["client_id"])


@dataclass
class Authorized:
    """Where the browser was sent back to the client: its query, parsed."""

    params: dict[str, str]

    @property
    def code(self) -> str:
        return self.params["code"]


def authorize(
    stack: Stack,
    browser: httpx2.Client,
    client_id: str,
    challenge: str | None,
    *,
    user: str = "alice",
    decision: str = "approve",
    **extra: str,
) -> httpx2.Response:
    """Open /authorize in `browser`, sign in at the provider if asked to, answer the consent page if shown.

    Returns the last answer: a redirect to the client's redirect URI, or a page of ours.
    """
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI, "state": "st-1", **extra}
    if challenge is not None:
        query.update(code_challenge=challenge, code_challenge_method="S256")
    target = query["redirect_uri"]
    answer = browser.get(f"{stack.base_url}/authorize", params=query)
    for _ in range(6):
        if not answer.is_redirect:
            break
        location = str(answer.url.join(answer.headers["location"]))
        if location.startswith(target):
            return answer
        if location.startswith(stack.provider.base_url):
            location = stack.provider.consent(browser, location, user)
        answer = browser.get(location)
    if answer.status_code == 200 and "/authorize/decide" in answer.text:
        fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(answer.text)}
        answer = browser.post(
            f"{stack.base_url}/authorize/decide",
            data={**fields, "decision": decision},
            headers={"Origin": stack.base_url},
        )
    return answer


def back_at_client(answer: httpx2.Response) -> Authorized:
    assert answer.status_code in (302, 303), answer.text[:500]
    location = httpx2.URL(answer.headers["location"])
    assert str(location).startswith(REDIRECT_URI)
    return Authorized(dict(location.params))


def token(stack: Stack, **form: str) -> httpx2.Response:
    return httpx2.post(f"{stack.base_url}/token", data=form, timeout=10)


def exchange(stack: Stack, client_id: str, code: str, verifier: str) -> httpx2.Response:
    return token(
        stack,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        client_id=client_id,
        code_verifier=verifier,
    )


def initialize(stack: Stack, access_token: str | None) -> httpx2.Response:
    """An MCP initialize request to /mcp with this bearer token."""
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if access_token:
        headers["Authorization"] = f"Bearer {access_token}"
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    return httpx2.post(f"{stack.base_url}/mcp", json=body, headers=headers, timeout=10)


def connected(stack: Stack, browser: httpx2.Client, **settings: Any) -> tuple[str, dict[str, Any]]:
    """Register a client and go through the whole code flow: (client_id, the token response)."""
    client_id = register(stack)
    verifier, challenge = pkce()
    code = back_at_client(authorize(stack, browser, client_id, challenge)).code
    answer = exchange(stack, client_id, code, verifier)
    assert answer.status_code == 200, answer.text
    return client_id, answer.json()


async def follow_link(stack: Stack, browser: httpx2.AsyncClient, url: str, user: str) -> httpx2.Response:
    """Open a tool's link in `browser`: sign in at the provider as `user` whenever sent there, and follow every
    redirect back; the page the browser lands on."""
    answer = await browser.get(url)
    for _ in range(10):
        if not answer.is_redirect:
            return answer
        location = str(answer.url.join(answer.headers["location"]))
        if location.startswith(stack.provider.base_url):
            location = await stack.provider.aconsent(browser, location, user)
        answer = await browser.get(location)
    raise AssertionError(f"still redirected after 10 hops: {answer.headers.get('location')}")
