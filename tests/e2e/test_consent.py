"""Consent bound to the person (docs/security.md's consent cases), in Chromium against real processes: authmcp,
the test provider (also the OpenID issuer for `verification = "idp"`) and an application's verifier.

Attacker mallory makes links for his own user id and sends them to a victim; the victim's provider account or
secret must never end up bound to mallory, whatever mallory tries with what he can see.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from arcadepy import AsyncArcade, BadRequestError
from playwright.async_api import Browser, Route

from tests.e2e.browser_steps import (
    API_KEY,
    SAMPLE_TOOLKIT,
    answer_consent,
    call,
    flow_id_of,
    idp_stack,
    link_for,
    open_page,
    text_at,
)
from tests.e2e.conftest import SIGN_IN_CLIENT_ID, SIGN_IN_CLIENT_SECRET, Stack, texts
from tests.e2e.verifier import VerifierApp, verifier_app
from tests.support.browser import page_text

pytestmark = pytest.mark.anyio

USERS = {"tok-mallory": "mallory", "tok-victim": "victim"}


def custom(stack: Stack, app: VerifierApp) -> Stack:
    stack.settings["api"] = {"keys": [API_KEY], "verification": "custom", "verifier_url": app.verify_url}
    stack.start_http("--toolkit", SAMPLE_TOOLKIT)
    return stack


def database_bytes(stack: Stack) -> bytes:
    return b"".join(p.read_bytes() for p in Path(stack.settings["data_dir"]).glob("authmcp.db*"))


async def test_link_creator_cannot_confirm_the_victims_consent_with_anything_he_saw(
    stack_factory: Any, chromium: Browser
) -> None:
    stack: Stack = stack_factory(mcp_auth={"tokens": USERS})
    async with (
        verifier_app(stack.base_url, API_KEY) as app,
        AsyncArcade(api_key=API_KEY, base_url=stack.base_url) as arcade,
    ):
        custom(stack, app)
        mallory, victim = await chromium.new_context(), await chromium.new_context()
        await open_page(mallory, app.login_url("mallory"))  # mallory is signed in to the application as himself

        # mallory's link, over MCP and over /v1: the same authorization, and mallory knows its id
        link = await link_for(stack, "tok-mallory")
        authorization = await arcade.tools.authorize(tool_name="Demo.WhoAmI", user_id="mallory")
        assert authorization.id == flow_id_of(link) and authorization.url == link

        # the victim opens it, consents with her own provider account; the app does not know her yet
        page = await open_page(victim, link)
        assert "Sign in to the app" in await answer_consent(page, "victim-at-provider")
        assert len(app.received) == 1 and app.received[0] != flow_id_of(link)

        # mallory tries every value he has seen, through the API and through the verifier page
        status = await arcade.auth.status(id=authorization.id or "")
        assert status.status == "pending" and status.url is None
        seen = {
            flow_id_of(link),
            authorization.id or "",
            link,
            *(v for v in status.to_dict().values() if isinstance(v, str)),
        }
        for value in seen:
            with pytest.raises(BadRequestError):
                await arcade.auth.confirm_user(flow_id=value, user_id="mallory")
            assert "Not confirmed" in await text_at(mallory, f"{app.verify_url}?flow_id={value}")
        # the link and the status pages tell him nothing
        assert "Opened in another browser" in await text_at(mallory, link)
        done = await text_at(mallory, f"{link}/done")
        assert "Nothing to show here" in done and "victim" not in done

        # mallory's tool still asks him to authorize; it never runs on the victim's account
        result = await call(stack, "tok-mallory")
        assert result.is_error and "victim" not in texts(result)
        assert (await arcade.auth.status(id=authorization.id or "")).status == "pending"

        # the victim signs in to the app: it is not mallory, so the flow fails and nothing is bound to anyone
        await open_page(victim, app.login_url("victim"))
        assert "Not confirmed" in await text_at(victim, f"{app.verify_url}?flow_id={app.received[0]}")
        assert (await arcade.auth.status(id=authorization.id or "")).status == "failed"
        for token in USERS:
            assert (await call(stack, token)).is_error
    assert [body["name"] for body in app.refusals if body.get("name") == "user_mismatch"] == ["user_mismatch"]
    assert app.received[0] not in stack.output()  # the confirmation, never logged


async def test_a_victims_secret_typed_on_the_attackers_link_never_reaches_his_tool(
    stack_factory: Any, chromium: Browser
) -> None:
    stack: Stack = stack_factory(mcp_auth={"tokens": USERS})
    async with (
        verifier_app(stack.base_url, API_KEY) as app,
        AsyncArcade(api_key=API_KEY, base_url=stack.base_url) as arcade,
    ):
        custom(stack, app)
        link = await link_for(stack, "tok-mallory", "Sample_ReadSecret")
        page = await open_page(await chromium.new_context(), link)
        assert "'mallory'" in await page_text(page)  # the page says whose account the value is for
        await page.fill('input[name="value"]', "CANARY-VICTIM-SECRET-7e21")
        async with page.expect_navigation():
            await page.click('button[type="submit"]')
        assert "Sign in to the app" in await page_text(page)  # held until the app confirms who typed it

        with pytest.raises(BadRequestError):
            await arcade.auth.confirm_user(flow_id=flow_id_of(link), user_id="mallory")
        result = await call(stack, "tok-mallory", "Sample_ReadSecret")
        assert result.is_error and result.structured_content is None
        assert b"CANARY-VICTIM-SECRET-7e21" not in database_bytes(stack)
    assert "CANARY-VICTIM-SECRET-7e21" not in stack.output()


async def test_the_callback_completes_only_in_the_browser_that_opened_the_link(stack: Stack, chromium: Browser) -> None:
    stack.start_http()  # loopback, one user: binding the browser holds even without user verification
    link = await link_for(stack, None)  # type: ignore[arg-type]
    own, other = await chromium.new_context(), await chromium.new_context()
    page = await open_page(own, link)
    callbacks: list[str] = []

    async def hold(route: Route) -> None:  # the provider's redirect back, caught before the browser follows it
        if route.request.method != "POST":
            await route.continue_()
            return
        answer = await route.fetch(max_redirects=0)
        callbacks.append(answer.headers["location"])
        await route.fulfill(status=200, body="held", content_type="text/plain")

    authorize = f"{stack.provider.base_url}/authorize*"
    await own.route(authorize, hold)
    await page.fill('input[name="username"]', "alice")
    async with page.expect_navigation():
        await page.click('button[value="allow"]')
    await own.unroute(authorize)
    assert len(callbacks) == 1 and "/oauth/callback?" in callbacks[0]

    # someone who got hold of the callback URL (code and state) replays it in another browser
    stack.provider.reset_stats()
    replay = await text_at(other, callbacks[0])
    assert "Opened in another browser" in replay and "Nothing was connected" in replay
    assert stack.provider.stats()["token_requests"]["authorization_code"] == 0  # nothing was exchanged

    # the first browser is not broken by it
    assert "Connected to Demo provider" in await text_at(own, callbacks[0])
    assert not (await call(stack, None)).is_error  # type: ignore[arg-type]


# ---------------------------------------------------------------- verification = "idp"


async def test_idp_verification_completes_for_the_flows_own_user(stack_factory: Any, chromium: Browser) -> None:
    stack = idp_stack(stack_factory)
    alice = stack.provider.mint_jwt(sub="alice", aud=f"{stack.base_url}/mcp")
    link = await link_for(stack, alice)
    page = await open_page(await chromium.new_context(), link)
    signing_in = await answer_consent(page, "alice")  # consent at the provider, then sign-in at the issuer
    assert "Sign in to the Demo provider" in signing_in and SIGN_IN_CLIENT_ID in signing_in
    assert "Connected to Demo provider" in await answer_consent(page, "alice")
    result = await call(stack, alice)
    assert not result.is_error and result.structured_content["provider_profile"]["sub"] == "alice"
    assert flow_id_of(link) not in stack.output()


async def test_idp_verification_binds_nothing_when_someone_else_signs_in(stack_factory: Any, chromium: Browser) -> None:
    stack = idp_stack(stack_factory)
    alice = stack.provider.mint_jwt(sub="alice", aud=f"{stack.base_url}/mcp")
    link = await link_for(stack, alice)  # alice's link, opened by mallory
    page = await open_page(await chromium.new_context(), link)
    await answer_consent(page, "mallory")
    refused = await answer_consent(page, "mallory")
    assert "someone other than the user this link was made for" in refused and "Nothing was connected" in refused
    result = await call(stack, alice)
    assert result.is_error and "mallory" not in texts(result)


async def test_idp_confirm_user_answers_why_it_is_not_used(stack_factory: Any, chromium: Browser) -> None:
    """With idp verification authmcp signs the browser in itself: an application that calls confirm_user (as it
    would with custom verification) is told, in a 400 with its own code, why not and what to do instead."""
    stack: Stack = stack_factory(provider_options={"sign_in_client": True})
    stack.settings["mcp_auth"] = {"jwt_issuer": stack.provider.issuer, "jwks_url": stack.provider.jwks_uri}
    stack.settings["api"] = {
        "keys": [API_KEY],
        "verification": "idp",
        "idp_client_id": SIGN_IN_CLIENT_ID,
        "idp_client_secret": SIGN_IN_CLIENT_SECRET,
    }
    stack.start_http("--toolkit", SAMPLE_TOOLKIT)
    async with AsyncArcade(api_key=API_KEY, base_url=stack.base_url) as arcade:
        authorization = await arcade.tools.authorize(tool_name="Demo.WhoAmI", user_id="alice")
        page = await open_page(await chromium.new_context(), authorization.url or "")
        assert "Sign in to the Demo provider" in await answer_consent(page, "alice")  # waiting for the sign-in
        with pytest.raises(BadRequestError) as refused:
            await arcade.auth.confirm_user(flow_id=authorization.id or "", user_id="alice")
        status = await arcade.auth.status(id=authorization.id or "")
    assert refused.value.status_code == 400 and status.status == "pending"  # and nothing was completed by it
    body = refused.value.response.json()
    assert body["name"] == "confirm_user_not_used"
    assert 'verification = "idp"' in body["message"] and "/v1/auth/status" in body["message"]
    assert "Connected to Demo provider" in await answer_consent(page, "alice")  # the sign-in still finishes it


# ---------------------------------------------------------------- safe by default


@pytest.mark.parametrize(
    "several_users",
    [
        pytest.param({"mcp_auth": {"tokens": USERS}}, id="mcp_auth"),
        pytest.param({"api": {"keys": [API_KEY]}}, id="api-keys"),
    ],
)
def test_several_users_without_verification_refuse_to_start(stack_factory: Any, several_users: dict[str, Any]) -> None:
    # consent phishing either way (a victim's account bound to the attacker's user, or the attacker's account to
    # the victim's) needs a server that binds whoever finished a flow: the default configuration does not start
    stack: Stack = stack_factory(**several_users)
    ran = subprocess.run(
        [sys.executable, *stack.serve_args("http")],
        env=stack.env(),
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    err = ran.stderr.decode()
    assert ran.returncode != 0
    assert 'verification = "custom"' in err and 'verification = "idp"' in err and 'verification = "none"' in err
    assert "Traceback" not in err


async def test_a_verifier_link_relayed_to_the_signed_in_victim_binds_nothing(
    stack_factory: Any, chromium: Browser
) -> None:
    """The relay: mallory opens the victim's link himself, consents with *his own* provider account, and sends the
    verifier URL he lands on to the victim. She is signed in to the app, so the app confirms her; but her browser
    is not the one that consented, so nothing is bound to her, and the page tells her what happened."""
    stack: Stack = stack_factory(mcp_auth={"tokens": USERS})
    async with (
        verifier_app(stack.base_url, API_KEY) as app,
        AsyncArcade(api_key=API_KEY, base_url=stack.base_url) as arcade,
    ):
        custom(stack, app)
        link = await link_for(stack, "tok-victim")  # the victim's agent made it; mallory got hold of it
        mallory, victim = await chromium.new_context(), await chromium.new_context()
        page = await open_page(mallory, link)
        assert "Sign in to the app" in await answer_consent(page, "mallory-at-provider")
        relayed = page.url  # the verifier URL mallory landed on, with the one-time confirmation
        assert relayed.startswith(app.verify_url)

        await open_page(victim, app.login_url("victim"))
        said = await text_at(victim, relayed)  # the app confirms her, then sends her browser back to authmcp
        assert "Authorization failed" in said and "other than the one that signed in at the provider" in said
        status = await arcade.auth.status(id=flow_id_of(link))
        assert status.status == "failed"
        result = await call(stack, "tok-victim")
        assert result.is_error and "mallory-at-provider" not in texts(result)  # her tool is not on his account

        # mallory, holding the link's cookie, gets nothing from the victim's confirmation either
        assert "mallory-at-provider" not in await text_at(mallory, f"{link}/done")
        assert (await call(stack, "tok-victim")).is_error
    assert app.received[0] not in stack.output()


async def test_a_custom_verification_completes_in_the_browser_that_consented(
    stack_factory: Any, chromium: Browser
) -> None:
    stack: Stack = stack_factory(mcp_auth={"tokens": USERS})
    async with verifier_app(stack.base_url, API_KEY) as app:
        custom(stack, app)
        victim = await chromium.new_context()
        await open_page(victim, app.login_url("victim"))
        page = await open_page(victim, await link_for(stack, "tok-victim"))
        said = await answer_consent(page, "victim-at-provider")
        assert "Connected to" in said, said  # verifier -> confirm_user -> next_uri in the same browser
        assert "/oauth/confirmed" not in page.url  # the one-time value is not left in the address bar
        result = await call(stack, "tok-victim")
        assert not result.is_error and "victim-at-provider" in texts(result)
