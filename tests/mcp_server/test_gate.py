"""The gate, in process: the MCP SDK's client against the assembled server, one test per behaviour."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client, MCPError, UrlElicitationRequiredError
from mcp.client.session import ClientRequestContext
from mcp_types import URL_ELICITATION_REQUIRED, ElicitRequestParams, ElicitRequestURLParams, ElicitResult

from mcp_server.serving.runtime import Runtime, open_runtime
from tests.support import sample_toolkit

pytestmark = pytest.mark.anyio

TOOLKIT = sample_toolkit.__name__  # imported by name: the tests and the server share the module
PUBLIC_URL = "http://127.0.0.1:8000"
UNREACHABLE = "http://127.0.0.1:9"  # nothing listens on the discard port


DEMO_PROVIDER = {
    "authorize_url": f"{UNREACHABLE}/authorize",
    "token_url": f"{UNREACHABLE}/token",
    "client_id": "authmcp-test",
    "client_secret": "test-secret",
    "scopes": ["openid"],
}


@pytest.fixture
async def runtime(make_settings: Any) -> AsyncIterator[Runtime]:
    settings = make_settings(
        providers={"demo": DEMO_PROVIDER},
        secrets={"SAMPLE_KEY": "s3cret-value"},
        http_timeout_seconds=2,
    )
    async with open_runtime(settings, public_url=PUBLIC_URL, toolkits=[TOOLKIT]) as rt:
        yield rt


async def connect(
    rt: Runtime,
    user: str = "alice",
    *,
    scopes: tuple[str, ...] = ("openid", "profile"),
    expires_in: float = 3600,
    refresh_token: str | None = "refresh-1",
    token: str = "token-1",
) -> None:
    await rt.vault.save_connection(
        user,
        "demo",
        access_token=token,
        refresh_token=refresh_token,
        token_type="Bearer",
        expires_at=time.time() + expires_in,
        scopes=scopes,
        user_info={"sub": user},
    )
    rt.service.connections.forget(user, "demo")


def text(result: Any) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


async def test_tools_list_carries_requirements_but_no_values(runtime: Runtime) -> None:
    async with Client(runtime.mcp) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert tools["Sample_ShowToken"].meta == {
        "authmcp/requirements": {
            "authorization": {"provider_id": "demo", "provider_type": "oauth2", "scopes": ["profile"]}
        }
    }
    assert tools["Sample_ReadSecret"].meta == {"authmcp/requirements": {"secrets": ["SAMPLE_KEY"]}}
    assert "context" not in tools["Sample_ShowToken"].input_schema["properties"]
    assert tools["Sample_ReadSecret"].annotations is not None
    assert tools["Sample_ReadSecret"].annotations.model_dump(by_alias=True, exclude_none=True) == {
        "title": "Read the secret",
        "readOnlyHint": True,
        "openWorldHint": False,
    }
    assert tools["Sample_ReadSecret"].title == "Read the secret"
    assert tools["Sample_ShowToken"].annotations is None  # nothing declared: nothing sent
    assert tools["Sample_ShowToken"].input_schema["properties"]["note"]["description"] == "Echoed back"
    assert "s3cret-value" not in str([t.model_dump() for t in tools.values()])


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_fresh_token_runs_the_tool_with_the_users_context(runtime: Runtime, mode: str) -> None:
    await connect(runtime)
    async with Client(runtime.mcp, mode=mode) as client:  # type: ignore[arg-type]
        result = await client.call_tool("Sample_ShowToken", {"note": "hi"})
    assert not result.is_error
    assert result.structured_content == {
        "user_id": "alice",
        "token": "token-1",
        "scopes": ["openid", "profile"],
        "user_info": {"sub": "alice"},
        "note": "hi",
    }


async def test_a_user_id_argument_cannot_change_who_the_tool_acts_for(runtime: Runtime) -> None:
    await connect(runtime, "alice", token="alice-token")
    await connect(runtime, "bob", token="bob-token")
    async with Client(runtime.mcp) as client:
        result = await client.call_tool("Sample_ShowToken", {"note": "x", "user_id": "bob", "user": "bob"})
    assert result.structured_content["token"] == "alice-token"  # type: ignore[index]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_no_connection_answers_authorization_required_as_a_result(runtime: Runtime, mode: str) -> None:
    async with Client(runtime.mcp, mode=mode) as client:  # type: ignore[arg-type]
        result = await client.call_tool("Sample_ShowToken", {})
        again = await client.call_tool("Sample_ShowToken", {})
    assert result.is_error and result.structured_content is None
    meta = result.meta or {}
    assert meta["provider"] == "demo" and meta["scopes"] == ["openid", "profile"]
    assert meta["url"] == f"{PUBLIC_URL}/connect/{meta['flow_id']}"
    assert meta["url"] in text(result) and "call the tool again" in text(result)
    assert (again.meta or {})["flow_id"] == meta["flow_id"]  # the pending flow is handed out again
    flow = await runtime.vault.get_flow(meta["flow_id"])
    assert flow is not None and flow.user_id == "alice" and flow.status == "pending"


async def test_modern_client_with_url_elicitation_gets_input_required(runtime: Runtime) -> None:
    seen: list[ElicitRequestParams] = []

    async def decline(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        seen.append(params)
        return ElicitResult(action="decline")

    async with Client(runtime.mcp, elicitation_callback=decline) as client:
        assert client.protocol_version == "2026-07-28"
        result = await client.call_tool("Sample_ShowToken", {})
    (params,) = seen
    assert isinstance(params, ElicitRequestURLParams) and "/connect/" in params.url
    assert result.is_error and "declined" in text(result)


async def test_legacy_client_with_url_elicitation_gets_32042_with_the_flow_id(runtime: Runtime) -> None:
    async def accept(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept")

    async with Client(runtime.mcp, mode="legacy", elicitation_callback=accept) as client:
        with pytest.raises(MCPError) as info:
            await client.call_tool("Sample_ShowToken", {})
    assert info.value.code == URL_ELICITATION_REQUIRED
    (elicitation,) = UrlElicitationRequiredError.from_error(info.value.error).elicitations
    assert elicitation.url == f"{PUBLIC_URL}/connect/{elicitation.elicitation_id}"
    assert await runtime.vault.get_flow(elicitation.elicitation_id) is not None


async def test_scopes_short_of_the_tool_ask_for_the_union(runtime: Runtime) -> None:
    await connect(runtime, scopes=("openid", "profile"))
    async with Client(runtime.mcp) as client:
        assert not (await client.call_tool("Sample_ShowToken", {})).is_error
        result = await client.call_tool("Sample_NeedsMoreScopes", {})
    assert result.is_error and (result.meta or {})["scopes"] == ["openid", "profile", "email"]
    # the old connection keeps working until the new one completes
    assert (await runtime.vault.get_connection("alice", "demo")).status == "active"  # type: ignore[union-attr]


async def test_missing_secret_asks_the_user_and_says_how_the_operator_could_set_it(make_settings: Any) -> None:
    async with open_runtime(
        make_settings(providers={"demo": DEMO_PROVIDER}), public_url=PUBLIC_URL, toolkits=[TOOLKIT]
    ) as rt:
        async with Client(rt.mcp) as client:
            result = await client.call_tool("Sample_ReadSecret", {})
            meta = result.meta or {}
            assert result.is_error and meta["secret"] == "SAMPLE_KEY"
            assert "SAMPLE_KEY" in text(result) and "AUTHMCP_SECRETS__SAMPLE_KEY" in text(result)
            assert meta["url"] == f"{PUBLIC_URL}/connect/{meta['flow_id']}" and meta["url"] in text(result)
            await rt.service.flows.submit_secret(meta["flow_id"], "users-own-value")
            after = await client.call_tool("Sample_ReadSecret", {})
    assert after.structured_content == {"result": len("users-own-value")}


async def test_configured_secret_reaches_the_tool(runtime: Runtime) -> None:
    async with Client(runtime.mcp) as client:
        result = await client.call_tool("Sample_ReadSecret", {})
        undeclared = await client.call_tool("Sample_UndeclaredSecret", {})
    assert result.structured_content == {"result": len("s3cret-value")}
    assert undeclared.is_error and "requires_secrets" in text(undeclared)


async def test_unconfigured_provider_says_which_settings_to_give(runtime: Runtime) -> None:
    async with Client(runtime.mcp) as client:
        result = await client.call_tool("Sample_GoogleProfile", {})
    assert result.is_error
    assert "AUTHMCP_PROVIDERS__GOOGLE__CLIENT_ID" in text(result) and "[providers.google]" in text(result)


async def test_expected_failures_are_shown_and_crashes_are_not(runtime: Runtime) -> None:
    async with Client(runtime.mcp) as client:
        expected = await client.call_tool("Sample_Fails", {"kind": "expected"})
        crash = await client.call_tool("Sample_Fails", {"kind": "crash"})
        bad_input = await client.call_tool("Sample_Fails", {"kind": 12})
    assert expected.is_error and "does not exist" in text(expected)
    assert crash.is_error and "secret-path" not in text(crash) and "Traceback" not in text(crash)
    assert bad_input.is_error and "Traceback" not in text(bad_input)


async def test_stale_token_with_unreachable_provider_is_an_error_not_a_revocation(runtime: Runtime) -> None:
    await connect(runtime, expires_in=-1)  # expired: refreshed before use
    async with Client(runtime.mcp) as client:
        result = await client.call_tool("Sample_ShowToken", {})
    assert result.is_error and "could not be reached" in text(result) and "/connect/" not in text(result)
    assert (await runtime.vault.get_connection("alice", "demo")).status == "active"  # type: ignore[union-attr]


async def test_expired_token_without_refresh_token_asks_for_authorization(runtime: Runtime) -> None:
    await connect(runtime, expires_in=-10, refresh_token=None)
    async with Client(runtime.mcp) as client:
        result = await client.call_tool("Sample_ShowToken", {})
    assert result.is_error and (result.meta or {}).get("flow_id")


async def test_modern_client_gives_a_secret_through_url_elicitation_in_one_call(make_settings: Any) -> None:
    async with open_runtime(
        make_settings(providers={"demo": DEMO_PROVIDER}), public_url=PUBLIC_URL, toolkits=[TOOLKIT]
    ) as rt:

        async def type_it(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
            assert isinstance(params, ElicitRequestURLParams) and "SAMPLE_KEY" in params.message
            await rt.service.flows.submit_secret(params.url.rsplit("/", 1)[-1], "typed-in-the-browser")
            return ElicitResult(action="accept")

        async with Client(rt.mcp, elicitation_callback=type_it) as client:
            result = await client.call_tool("Sample_ReadSecret", {})
    assert result.structured_content == {"result": len("typed-in-the-browser")}


async def test_tools_get_their_toolkits_settings_and_the_shared_http_client(make_settings: Any) -> None:
    settings = make_settings(
        providers={"demo": DEMO_PROVIDER},
        toolkit_settings={"Sample": {"api_base_url": "http://127.0.0.1:9999"}, "other": {"api_base_url": "x"}},
    )
    async with open_runtime(settings, public_url=PUBLIC_URL, toolkits=[TOOLKIT]) as rt:
        async with Client(rt.mcp) as client:
            result = await client.call_tool("Sample_Environment", {})
    assert result.structured_content == {"api_base_url": "http://127.0.0.1:9999", "has_http": True}
