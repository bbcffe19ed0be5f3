"""The authorization service and the gate against the real test provider (a subprocess), in process."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
import pytest
from mcp import Client

from mcp_server.authorization.errors import CallbackError, FlowUnavailable
from mcp_server.serving.runtime import Runtime, open_runtime
from mcp_server.toolkit.tool import OAuth2
from tests.support import sample_toolkit
from tests.support.fixtures import CLIENT_ID, CLIENT_SECRET, DEFAULT_REDIRECT_URI
from tests.support.provider import AuthServer
from tests.support.waiting import woken

pytestmark = pytest.mark.anyio

PUBLIC_URL = DEFAULT_REDIRECT_URI.removesuffix("/oauth/callback")
PROFILE = OAuth2(id="demo", scopes=["profile"])


@pytest.fixture
async def runtime(make_settings: Any, auth_server: AuthServer) -> AsyncIterator[Runtime]:
    settings = make_settings(
        providers={
            "demo": {
                "authorize_url": auth_server.authorization_endpoint,
                "token_url": auth_server.token_endpoint,
                "userinfo_url": auth_server.userinfo_endpoint,
                "issuer": auth_server.issuer,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }
        }
    )
    async with open_runtime(settings, public_url=PUBLIC_URL, toolkits=[sample_toolkit.__name__]) as rt:
        yield rt
    sample_toolkit.REJECTED_TOKENS.clear()


async def consent(
    rt: Runtime, provider: AuthServer, flow_id: str, username: str = "alice", allow: bool = True
) -> tuple[dict[str, str], dict[str, str]]:
    """The browser's part, without authmcp's HTTP layer: opening the link (which binds it to this browser's
    cookie), our redirect, the provider's consent. Returns the callback's parameters and the browser's cookies."""
    admission = await rt.service.flows.open_in_browser(flow_id, {})
    assert admission is not None and admission.new_cookie is not None
    cookies = {rt.service.flows.browser_cookie(flow_id): admission.new_cookie}
    async with httpx2.AsyncClient(timeout=10) as browser:
        callback = await provider.aconsent(browser, await rt.service.flows.redirect(flow_id), username, allow=allow)
    return {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}, cookies


async def connect(rt: Runtime, provider: AuthServer, requirement: OAuth2 = PROFILE, user: str = "alice") -> None:
    flow = await rt.service.flows.start_flow(user, requirement)
    landing = await rt.service.flows.complete(*await consent(rt, provider, flow.id, user))
    assert (await rt.service.flows.flow_status(landing.flow.id)).status == "completed"  # type: ignore[union-attr]


async def test_flow_stores_granted_scopes_and_the_providers_profile(runtime: Runtime, auth_server: AuthServer) -> None:
    await connect(runtime, auth_server)
    connection = await runtime.service.connections.connection_for("alice", PROFILE)
    assert connection is not None and connection.scopes == ("profile",)
    assert connection.user_info["sub"] == "alice" and connection.refresh_token


async def test_declined_consent_fails_the_flow_and_stores_nothing(runtime: Runtime, auth_server: AuthServer) -> None:
    flow = await runtime.service.flows.start_flow("alice", PROFILE)
    with pytest.raises(CallbackError, match="declined"):
        await runtime.service.flows.complete(*await consent(runtime, auth_server, flow.id, allow=False))
    assert (await runtime.service.flows.flow_status(flow.id)).status == "failed"  # type: ignore[union-attr]
    assert await runtime.vault.get_connection("alice", "demo") is None


async def test_mismatched_issuer_is_refused_before_any_exchange(runtime: Runtime, auth_server: AuthServer) -> None:
    flow = await runtime.service.flows.start_flow("alice", PROFILE)
    params, cookies = await consent(runtime, auth_server, flow.id)
    auth_server.reset_stats()
    with pytest.raises(CallbackError, match="did not come from"):
        await runtime.service.flows.complete({**params, "iss": "http://127.0.0.1:1"}, cookies)
    assert auth_server.stats()["token_requests"]["authorization_code"] == 0


async def test_waiters_wake_when_the_callback_lands(runtime: Runtime, auth_server: AuthServer) -> None:
    flow = await runtime.service.flows.start_flow("alice", PROFILE)
    params, cookies = await consent(runtime, auth_server, flow.id)
    woke, _ = await woken(runtime.service.flows, flow.id, lambda: runtime.service.flows.complete(params, cookies))
    assert woke is not None and woke.status == "completed"


async def test_upstream_401_refreshes_once_and_retries_with_the_new_token(
    runtime: Runtime, auth_server: AuthServer
) -> None:
    await connect(runtime, auth_server)
    old = (await runtime.vault.get_connection("alice", "demo")).access_token  # type: ignore[union-attr]
    sample_toolkit.REJECTED_TOKENS.add(old)
    auth_server.reset_stats()
    async with Client(runtime.mcp) as client:
        result = await client.call_tool("Sample_UseToken", {})
    assert not result.is_error and result.structured_content["result"] not in ("", old)  # type: ignore[index]
    assert auth_server.stats()["token_requests"]["refresh_token"] == 1


async def test_upstream_401_after_refresh_asks_for_authorization(runtime: Runtime, auth_server: AuthServer) -> None:
    await connect(runtime, auth_server)

    class RejectAll(set[str]):
        def __contains__(self, item: object) -> bool:
            return True

    sample_toolkit.REJECTED_TOKENS = RejectAll()  # type: ignore[misc]
    try:
        async with Client(runtime.mcp) as client:
            result = await client.call_tool("Sample_UseToken", {})
    finally:
        sample_toolkit.REJECTED_TOKENS = set()
    assert result.is_error and (result.meta or {}).get("flow_id")


async def test_concurrent_calls_with_a_stale_token_refresh_once(runtime: Runtime, auth_server: AuthServer) -> None:
    await connect(runtime, auth_server)
    stored = await runtime.vault.get_connection("alice", "demo")
    assert stored is not None
    await runtime.vault.save_connection(
        "alice",
        "demo",
        access_token=stored.access_token,
        refresh_token=stored.refresh_token,
        token_type="Bearer",
        expires_at=time.time() - 5,
        scopes=stored.scopes,
    )
    runtime.service.connections.forget("alice", "demo")
    auth_server.reset_stats()
    results: list[Any] = []
    async with Client(runtime.mcp) as client:
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(lambda: _collect(client, results))
    assert len(results) == 20 and not any(r.is_error for r in results)
    assert len({r.structured_content["token"] for r in results}) == 1
    assert auth_server.stats()["token_requests"]["refresh_token"] == 1


async def _collect(client: Client, results: list[Any]) -> None:
    results.append(await client.call_tool("Sample_ShowToken", {}))


async def test_more_scopes_keep_the_old_connection_until_the_new_one_completes(
    runtime: Runtime, auth_server: AuthServer
) -> None:
    await connect(runtime, auth_server)
    wider = OAuth2(id="demo", scopes=["profile", "email"])
    assert await runtime.service.connections.connection_for("alice", wider) is None
    flow = await runtime.service.flows.start_flow("alice", wider)
    assert flow.scopes == ("profile", "email")
    assert await runtime.service.connections.connection_for("alice", PROFILE) is not None  # still usable meanwhile
    await runtime.service.flows.complete(*await consent(runtime, auth_server, flow.id))
    connection = await runtime.service.connections.connection_for("alice", wider)
    assert connection is not None and set(connection.scopes) == {"profile", "email"}


@pytest.fixture
async def verifying_runtime(make_settings: Any, auth_server: AuthServer) -> AsyncIterator[Runtime]:
    settings = make_settings(
        providers={
            "demo": {
                "authorize_url": auth_server.authorization_endpoint,
                "token_url": auth_server.token_endpoint,
                "userinfo_url": auth_server.userinfo_endpoint,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }
        },
        api={"verification": "custom", "verifier_url": "https://app.example/verify?from=authmcp"},
    )
    async with open_runtime(settings, public_url=PUBLIC_URL, toolkits=[sample_toolkit.__name__]) as rt:
        yield rt


async def test_verification_holds_tokens_until_the_app_confirms_the_right_user(
    verifying_runtime: Runtime, auth_server: AuthServer
) -> None:
    rt = verifying_runtime
    flow = await rt.service.flows.start_flow("alice", PROFILE)
    params, cookies = await consent(rt, auth_server, flow.id, "alice")
    landing = await rt.service.flows.complete(params, cookies)
    assert (await rt.service.flows.flow_status(flow.id)).status == "awaiting_verification"  # type: ignore[union-attr]
    assert landing.url.startswith("https://app.example/verify?from=authmcp&flow_id=")
    confirmation = parse_qs(urlsplit(landing.url).query)["flow_id"][0]
    assert confirmation != flow.id and len(confirmation) >= 32  # a value of its own, not the link's id
    assert await rt.vault.get_connection("alice", "demo") is None  # nothing bound before verification
    with pytest.raises(FlowUnavailable):
        await rt.service.flows.confirm_user(flow.id, "alice")  # the link's id confirms nothing

    async def confirm_and_return() -> tuple[str, Any]:
        confirmed = await rt.service.flows.confirm_user(confirmation, "alice")
        # confirming the user binds nothing yet: the browser that consented must come back to next_uri
        assert confirmed.flow.status == "awaiting_browser"
        assert await rt.vault.get_connection("alice", "demo") is None
        assert confirmed.next_uri.startswith(f"{PUBLIC_URL}/oauth/confirmed?confirmation=")
        returning = parse_qs(urlsplit(confirmed.next_uri).query)["confirmation"][0]
        assert returning != confirmation and len(returning) >= 32
        with pytest.raises(FlowUnavailable):
            await rt.service.flows.confirm_user(confirmation, "alice")  # the verifier's value is spent
        return returning, await rt.service.flows.finish_confirmation({"confirmation": returning}, cookies)

    woke, (returning, done) = await woken(rt.service.flows, flow.id, confirm_and_return)
    assert done.status == "completed" and woke is not None and woke.status == "completed"
    connection = await rt.service.connections.connection_for("alice", PROFILE)
    assert connection is not None and connection.user_info["sub"] == "alice"
    again = await rt.service.flows.finish_confirmation({"confirmation": returning}, cookies)
    assert again.status == "completed"  # the same browser reloading the page


async def test_a_confirmation_relayed_to_another_browser_binds_nothing(
    verifying_runtime: Runtime, auth_server: AuthServer
) -> None:
    """Mallory opens alice's link and consents with his own account, then gets alice (signed in to the app) to
    open the verifier URL: her confirmation reaches authmcp, but her browser is not the one that consented."""
    from mcp_server.authorization.errors import CallbackError

    rt = verifying_runtime
    flow = await rt.service.flows.start_flow("alice", PROFILE)
    landing = await rt.service.flows.complete(*await consent(rt, auth_server, flow.id, "mallory"))
    confirmation = parse_qs(urlsplit(landing.url).query)["flow_id"][0]
    confirmed = await rt.service.flows.confirm_user(confirmation, "alice")  # alice is signed in to the app
    returning = parse_qs(urlsplit(confirmed.next_uri).query)["confirmation"][0]
    with pytest.raises(CallbackError) as refused:
        await rt.service.flows.finish_confirmation({"confirmation": returning}, {})  # alice's browser: no flow cookie
    assert refused.value.status == 403 and "other than the one that signed in" in str(refused.value)
    assert (await rt.service.flows.flow_status(flow.id)).status == "failed"  # type: ignore[union-attr]
    assert await rt.vault.get_connection("alice", "demo") is None


async def test_verification_naming_another_user_binds_nothing(
    verifying_runtime: Runtime, auth_server: AuthServer
) -> None:
    from mcp_server.authorization.errors import UserMismatch

    rt = verifying_runtime
    flow = await rt.service.flows.start_flow("alice", PROFILE)
    landing = await rt.service.flows.complete(*await consent(rt, auth_server, flow.id, "mallory"))  # someone else
    confirmation = parse_qs(urlsplit(landing.url).query)["flow_id"][0]
    with pytest.raises(UserMismatch):
        await rt.service.flows.confirm_user(confirmation, "mallory")
    assert (await rt.service.flows.flow_status(flow.id)).status == "failed"  # type: ignore[union-attr]
    with pytest.raises(FlowUnavailable):
        await rt.service.flows.confirm_user(confirmation, "alice")
    assert await rt.vault.get_connection("alice", "demo") is None
    assert await rt.vault.get_connection("mallory", "demo") is None


async def test_a_provider_configured_by_discovery_works_end_to_end(make_settings: Any, auth_server: AuthServer) -> None:
    settings = make_settings(
        providers={
            "demo": {
                "issuer": auth_server.issuer,
                "discover": True,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }
        }
    )
    async with open_runtime(settings, public_url=PUBLIC_URL, toolkits=[sample_toolkit.__name__]) as rt:
        provider = rt.service.connections.provider("demo")
        assert provider.token_url == auth_server.token_endpoint and provider.pkce
        assert provider.revocation_url == auth_server.revocation_endpoint
        await connect(rt, auth_server)
        assert await rt.service.connections.connection_for("alice", PROFILE) is not None


async def test_discovery_refuses_metadata_naming_another_issuer(make_settings: Any, auth_server: AuthServer) -> None:
    from mcp_server.errors import ConfigError

    settings = make_settings(
        providers={
            "demo": {
                "issuer": auth_server.issuer + "/",
                "discover": True,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }
        }
    )
    with pytest.raises(ConfigError, match="must be exactly"):
        async with open_runtime(settings, public_url=PUBLIC_URL, toolkits=[sample_toolkit.__name__]):
            pass


async def test_token_extras_are_kept_with_the_connection_and_through_a_refresh(
    make_settings: Any, auth_server: AuthServer
) -> None:
    # The test provider's token answers carry `scope` (RFC 6749 §5.1); declared as an extra, it is kept.
    settings = make_settings(
        providers={
            "demo": {
                "authorize_url": auth_server.authorization_endpoint,
                "token_url": auth_server.token_endpoint,
                "userinfo_url": auth_server.userinfo_endpoint,
                "issuer": auth_server.issuer,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "token_extras": ["scope", "no_such_field"],
            }
        }
    )
    async with open_runtime(settings, public_url=PUBLIC_URL, toolkits=[sample_toolkit.__name__]) as rt:
        await connect(rt, auth_server)
        connection = await rt.vault.get_connection("alice", "demo")
        assert connection is not None and connection.token_extras == {"scope": "profile"}
        refreshed = await rt.service.connections.refresh("alice", "demo", rejected=connection)
        assert refreshed is not None and refreshed.access_token != connection.access_token
        assert refreshed.token_extras == {"scope": "profile"}
