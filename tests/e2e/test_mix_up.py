"""Mix-up (RFC 9207, RFC 9700 §4.4), against real processes: an authorization server whose metadata says its
responses name it (`authorization_response_iss_parameter_supported`) must have named itself in the response that
comes back, or the response may be another server's, carrying that server's code.

The test provider advertises it and, as the attacker's response would look, then sends no `iss`, or another
issuer's: authmcp refuses the response with a page that says so and binds nothing, both on a provider's callback
and on the sign-in of `[api] verification = "idp"`.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser

from tests.e2e.browser_steps import answer_consent, call, idp_stack, link_for, open_page
from tests.e2e.conftest import Stack, authorize_in_browser, texts

pytestmark = pytest.mark.anyio

SENT = [
    pytest.param("send", id="iss-of-the-issuer"),
    pytest.param("omit", id="no-iss"),
    pytest.param("wrong", id="iss-of-another-issuer"),
]


@pytest.mark.parametrize("sent", SENT)
async def test_a_providers_callback_must_carry_its_iss_where_its_metadata_says_so(
    stack_factory: Any, sent: str
) -> None:
    stack: Stack = stack_factory()
    stack.settings["providers"]["demo"]["discover"] = True  # its metadata is read: it says it sends iss
    stack.start_http()
    link = await link_for(stack, "")
    stack.provider.set_behavior(authorization_response_iss=sent)
    page = await authorize_in_browser(stack.provider, link, "alice")
    result = await call(stack, "")
    if sent == "send":
        assert page.status_code == 200 and "Connected to Demo provider" in page.text
        assert not result.is_error and result.structured_content["provider_profile"]["sub"] == "alice"
        return
    assert page.status_code == 400
    assert "did not come from Demo provider" in page.text
    assert stack.provider.stats()["token_requests"]["authorization_code"] == 0  # its code was never redeemed
    assert result.is_error and "Authorization required" in texts(result)  # nothing was bound


@pytest.mark.parametrize("sent", SENT)
async def test_an_idp_sign_in_must_carry_the_issuers_iss(stack_factory: Any, chromium: Browser, sent: str) -> None:
    stack = idp_stack(stack_factory)
    alice = stack.provider.mint_jwt(sub="alice", aud=f"{stack.base_url}/mcp")
    link = await link_for(stack, alice)
    page = await open_page(await chromium.new_context(), link)
    assert "Sign in to the Demo provider" in await answer_consent(page, "alice")  # consented: now sign in
    stack.provider.set_behavior(authorization_response_iss=sent)  # what the sign-in's response carries
    landed = await answer_consent(page, "alice")
    result = await call(stack, alice)
    if sent == "send":
        assert "Connected to Demo provider" in landed
        assert not result.is_error and result.structured_content["provider_profile"]["sub"] == "alice"
        return
    assert "did not come from the expected issuer" in landed
    assert stack.provider.stats()["token_requests"]["authorization_code"] == 1  # the consent's, not the sign-in's
    assert result.is_error and "Authorization required" in texts(result)  # alice's consent was not bound
