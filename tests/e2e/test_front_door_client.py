"""The MCP SDK's own OAuth client (`OAuthClientProvider`) connects through the front door with the URL alone: by
dynamic registration, and by a Client ID Metadata Document (served over https on loopback, under a test CA that
the authmcp process trusts through SSL_CERT_FILE)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from playwright.async_api import Browser, BrowserContext, Route

from tests.e2e.browser_steps import answer_consent, open_page
from tests.e2e.conftest import Stack, texts
from tests.e2e.front_door_steps import REDIRECT_URI, follow_link, front_door_stack
from tests.support.browser import page_text
from tests.support.documents import DocumentServer
from tests.support.tls import make_test_ca


class MemoryStorage:
    """The SDK's `TokenStorage`, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Person:
    """The browser the client opens: signs in at the provider as `user` and approves on authmcp's page."""

    def __init__(self, stack: Stack, browser: httpx2.AsyncClient, user: str) -> None:
        self.stack, self.browser, self.user = stack, browser, user
        self.result: AuthorizationCodeResult | None = None

    async def open(self, url: str) -> None:
        answer = await self.browser.get(url)
        for _ in range(8):
            if not answer.is_redirect:
                break
            location = str(answer.url.join(answer.headers["location"]))
            if location.startswith(REDIRECT_URI):
                self.came_back(httpx2.URL(location))
                return
            if location.startswith(self.stack.provider.base_url):
                location = await self.stack.provider.aconsent(self.browser, location, self.user)
            answer = await self.browser.get(location)
        request = answer.text.split('name="request" value="')[1].split('"')[0]
        csrf = answer.text.split('name="csrf" value="')[1].split('"')[0]
        await self.open_decision(request, csrf)

    async def open_decision(self, request: str, csrf: str) -> None:
        answer = await self.browser.post(
            f"{self.stack.base_url}/authorize/decide",
            data={"request": request, "csrf": csrf, "decision": "approve"},
            headers={"Origin": self.stack.base_url},
        )
        self.came_back(httpx2.URL(answer.headers["location"]))

    def came_back(self, location: httpx2.URL) -> None:
        params = location.params
        self.result = AuthorizationCodeResult(code=params["code"], state=params.get("state"), iss=params.get("iss"))

    async def callback(self) -> AuthorizationCodeResult:
        assert self.result is not None, "the browser never came back to the client"
        return self.result


@contextlib.asynccontextmanager
async def sdk_client(
    stack: Stack, browser: httpx2.AsyncClient, user: str
) -> AsyncIterator[tuple[Client, MemoryStorage]]:
    """The SDK's client connected with the URL alone, the person `user` signing in and approving in `browser`."""
    storage = MemoryStorage()
    person = Person(stack, browser, user)
    auth = OAuthClientProvider(
        server_url=f"{stack.base_url}/mcp",
        client_metadata=OAuthClientMetadata(
            client_name="SDK test client",
            redirect_uris=[REDIRECT_URI],  # type: ignore[list-item]
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=person.open,
        callback_handler=person.callback,
    )
    async with httpx2.AsyncClient(auth=auth, timeout=30, trust_env=False) as http:
        async with Client(streamable_http_client(f"{stack.base_url}/mcp", http_client=http)) as client:  # type: ignore[arg-type]
            yield client, storage


async def tool_link(client: Client) -> str:
    result = await client.call_tool("Demo_WhoAmI", {})
    assert result.is_error and result.meta is not None, texts(result)
    return str(result.meta["url"])


@pytest.mark.anyio
async def test_the_sdk_client_connects_by_dynamic_registration(stack_factory: Any) -> None:
    stack = front_door_stack(stack_factory)
    async with httpx2.AsyncClient(timeout=15, trust_env=False) as browser:
        async with sdk_client(stack, browser, "alice") as (client, storage):
            tools = await client.list_tools()
            assert "Demo_WhoAmI" in [t.name for t in tools.tools]
            # the same browser, signed in as alice: the tool's link needs no sign-in and no verification step
            landed = await follow_link(stack, browser, await tool_link(client), "alice")
            assert landed.status_code == 200, landed.text[:300]
            assert "/sign-in/callback" not in str(landed.url)
            second = await client.call_tool("Demo_WhoAmI", {})
            assert not second.is_error, texts(second)
            assert "alice" in texts(second)
    assert storage.client is not None and storage.tokens is not None
    assert storage.tokens.access_token not in stack.output()


@pytest.mark.anyio
async def test_the_tool_link_in_another_users_browser_is_refused(stack_factory: Any) -> None:
    stack = front_door_stack(stack_factory)
    async with httpx2.AsyncClient(timeout=15, trust_env=False) as browser:
        async with sdk_client(stack, browser, "alice") as (client, _):
            link = await tool_link(client)
            async with httpx2.AsyncClient(timeout=15, trust_env=False) as bobs:
                async with sdk_client(stack, bobs, "bob"):  # bob's browser is signed in as bob
                    pass
                refused = await follow_link(stack, bobs, link, "bob")
            assert refused.status_code == 403 and "someone else" in refused.text
            # the link was not used up by the refusal: alice's own browser still completes it
            landed = await follow_link(stack, browser, link, "alice")
            assert landed.status_code == 200, landed.text[:300]
            assert not (await client.call_tool("Demo_WhoAmI", {})).is_error


@pytest.mark.anyio
async def test_a_browser_with_no_session_signs_in_first(stack_factory: Any) -> None:
    stack = front_door_stack(stack_factory)
    async with httpx2.AsyncClient(timeout=15, trust_env=False) as browser:
        async with sdk_client(stack, browser, "alice") as (client, _):
            link = await tool_link(client)
            async with httpx2.AsyncClient(timeout=15, trust_env=False) as fresh:
                first = await fresh.get(link)
                assert (
                    first.status_code == 303
                    and "/sign-in/callback" in httpx2.URL(first.headers["location"]).params["redirect_uri"]
                )
                landed = await follow_link(stack, fresh, link, "alice")
            assert landed.status_code == 200, landed.text[:300]
            result = await client.call_tool("Demo_WhoAmI", {})
            assert not result.is_error and "alice" in texts(result)


class ChromiumPerson:
    """The person in Chromium: the client opens the authorization URL in a tab; they sign in at the provider and
    press Approve; the redirect to the client's (loopback) redirect URI is caught, as the client would catch it."""

    def __init__(self, stack: Stack, context: BrowserContext, user: str) -> None:
        self.stack, self.context, self.user = stack, context, user
        self.result: AuthorizationCodeResult | None = None
        self.consent_text = ""

    async def open(self, url: str) -> None:
        async def caught(route: Route) -> None:
            params = httpx2.URL(route.request.url).params
            self.result = AuthorizationCodeResult(code=params["code"], state=params.get("state"), iss=params.get("iss"))
            await route.fulfill(status=200, body="You may close this tab.")

        await self.context.route(f"{REDIRECT_URI}*", caught)
        page = await self.context.new_page()
        await page.goto(url)
        if page.url.startswith(self.stack.provider.base_url):
            await answer_consent(page, self.user)
        self.consent_text = await page_text(page)
        async with page.expect_response(lambda r: r.url.startswith(REDIRECT_URI)):  # after `caught` answered
            await page.click('button[value="approve"]')

    async def callback(self) -> AuthorizationCodeResult:
        assert self.result is not None, "the browser never came back to the client"
        return self.result


@contextlib.asynccontextmanager
async def chromium_sdk_client(
    stack: Stack, context: BrowserContext, *, client_name: str | None = None, client_metadata_url: str | None = None
) -> AsyncIterator[tuple[Client, MemoryStorage, ChromiumPerson]]:
    """The SDK's client connected with the URL alone (and `client_metadata_url`, if given), alice signing in and
    approving in Chromium."""
    person = ChromiumPerson(stack, context, "alice")
    storage = MemoryStorage()
    auth = OAuthClientProvider(
        server_url=f"{stack.base_url}/mcp",
        client_metadata=OAuthClientMetadata(
            client_name=client_name,
            redirect_uris=[REDIRECT_URI],  # type: ignore[list-item]
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=person.open,
        callback_handler=person.callback,
        client_metadata_url=client_metadata_url,
    )
    async with httpx2.AsyncClient(auth=auth, timeout=30, trust_env=False) as http:
        async with Client(streamable_http_client(f"{stack.base_url}/mcp", http_client=http)) as client:  # type: ignore[arg-type]
            yield client, storage, person


async def tools_work_and_a_consent_completes(client: Client, context: BrowserContext) -> None:
    """Tools are listed; the tool's link, opened in the same browser (signed in as alice), needs only the
    provider's consent; the tool then answers as alice."""
    assert "Demo_WhoAmI" in [t.name for t in (await client.list_tools()).tools]
    page = await open_page(context, await tool_link(client))
    landed = await answer_consent(page, "alice")
    assert "connected" in landed.lower(), landed
    result = await client.call_tool("Demo_WhoAmI", {})
    assert not result.is_error and "alice" in texts(result)


@pytest.mark.anyio
async def test_in_chromium_the_sdk_client_connects_and_a_tool_consent_completes(
    stack_factory: Any, chromium: Browser
) -> None:
    stack = front_door_stack(stack_factory)
    context = await chromium.new_context()
    async with chromium_sdk_client(stack, context, client_name="Chromium test client") as (client, _, person):
        assert "Chromium test client" in person.consent_text and "127.0.0.1:33418" in person.consent_text
        await tools_work_and_a_consent_completes(client, context)
    cookies = {c["name"]: c for c in await context.cookies()}
    session = cookies["authmcp_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax" and not session["domain"].startswith(".")
    await context.close()


@pytest.mark.anyio
async def test_your_connections_lists_the_approved_clients_each_revocable(stack_factory: Any) -> None:
    stack = front_door_stack(stack_factory)
    async with httpx2.AsyncClient(timeout=15, trust_env=False) as browser:
        async with sdk_client(stack, browser, "alice") as (client, storage):
            await follow_link(stack, browser, await tool_link(client), "alice")
            listed = await browser.get(f"{stack.base_url}/connections")
            assert listed.status_code == 200
            assert "SDK test client" in listed.text and "127.0.0.1:33418" in listed.text
            assert "Demo provider" in listed.text  # the downstream account too
            assert storage.tokens is not None
            csrf = listed.text.split('action="/connections/clients/revoke"')[1].split('name="csrf" value="')[1]
            client_id = listed.text.split('name="client_id" value="')[1].split('"')[0]
            revoked = await browser.post(
                f"{stack.base_url}/connections/clients/revoke",
                data={"client_id": client_id, "csrf": csrf.split('"')[0]},
                headers={"Origin": stack.base_url},
            )
            assert revoked.status_code == 303
            after = await browser.get(f"{stack.base_url}/connections")
            assert "SDK test client" not in after.text
            bearer = {"Authorization": f"Bearer {storage.tokens.access_token}"}
            assert (await browser.post(f"{stack.base_url}/mcp", headers=bearer, json={})).status_code == 401
        async with httpx2.AsyncClient(timeout=15, trust_env=False) as stranger:
            first = await stranger.get(f"{stack.base_url}/connections")
            assert first.status_code == 303 and first.headers["location"].startswith(stack.provider.base_url)


@pytest.mark.anyio
async def test_in_chromium_the_sdk_client_connects_by_a_client_id_metadata_document(
    stack_factory: Any, chromium: Browser, tmp_path: Path
) -> None:
    # the certificate names localhost alone (no IP): the fetch, pinned to 127.0.0.1, verifies it for the name
    ca = make_test_ca(tmp_path / "ca", names=("localhost",), ips=())
    with DocumentServer(REDIRECT_URI, tls=ca.server_context(), host="localhost") as documents:
        stack = front_door_stack(stack_factory, env={"SSL_CERT_FILE": str(ca.ca_file)})
        client_id = f"{documents.url}/client.json"
        context = await chromium.new_context()
        async with chromium_sdk_client(stack, context, client_metadata_url=client_id) as (client, storage, person):
            assert storage.client is not None and storage.client.client_id == client_id  # not registered
            assert "Document client" in person.consent_text, person.consent_text
            assert f"described at {client_id.split('/')[2]}" in person.consent_text
            await tools_work_and_a_consent_completes(client, context)
        await context.close()
        assert documents.gets["/client.json"] == 1  # max-age=600: one fetch for authorize, consent and token
        assert set(documents.hosts) == {client_id.split("/")[2]}  # asked for by its name, localhost:<port>
