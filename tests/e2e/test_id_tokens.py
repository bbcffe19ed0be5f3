"""ID tokens, checked by the one implementation both sign-ins use (providers/id_tokens.py), against real processes.

The strict test provider issues an ID token wrong in one way at a time (a nonce of another sign-in, another
audience, long expired, signed with a key that is not in its JWKS); the sign-in of `[api] verification = "idp"`
(in Chromium) and the front door's sign-in each refuse it with a page that says why, and accept the right one.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from playwright.async_api import Browser

from tests.e2e.browser_steps import answer_consent, call, flow_id_of, idp_stack, link_for, open_page
from tests.e2e.conftest import texts
from tests.e2e.front_door_steps import authorize, back_at_client, front_door_stack, pkce, register

pytestmark = pytest.mark.anyio

WRONG = {
    "wrong_nonce": "not issued for this sign-in (the nonce differs)",
    "wrong_audience": "failed the checks of signature, issuer, audience and expiry",
    "expired": "failed the checks of signature, issuer, audience and expiry",
    "bad_signature": "failed the checks of signature, issuer, audience and expiry",
}


async def test_idp_verification_refuses_each_wrong_id_token_and_takes_the_right_one(
    stack_factory: Any, chromium: Browser
) -> None:
    stack = idp_stack(stack_factory)
    alice = stack.provider.mint_jwt(sub="alice", aud=f"{stack.base_url}/mcp")
    for behavior, why in [*WRONG.items(), ("normal", None)]:
        link = await link_for(stack, alice)
        page = await open_page(await chromium.new_context(), link)
        stack.provider.set_behavior(id_token="normal")  # the provider's own consent: a token for Demo_WhoAmI
        signing_in = await answer_consent(page, "alice")
        assert "Sign in to the Demo provider" in signing_in
        # the sign-in's authorization request carried our nonce (the strict provider echoes it in the ID token)
        assert "nonce=" in page.url
        stack.provider.set_behavior(id_token=behavior)
        landed = await answer_consent(page, "alice")
        if why is None:
            assert "Connected to Demo provider" in landed, landed
            result = await call(stack, alice)
            assert not result.is_error and result.structured_content["provider_profile"]["sub"] == "alice"
            continue
        assert "could not be trusted" in landed and why in landed and "Nothing was connected" in landed, landed
        assert await page.get_attribute("main", "class") == "fail"
        result = await call(stack, alice)  # nothing was bound: alice is asked again
        assert result.is_error and "authoriz" in texts(result).lower()
        assert flow_id_of(link) not in stack.output()
    assert "Traceback" not in stack.output()


def test_the_front_door_sign_in_refuses_each_wrong_id_token(stack_factory: Any) -> None:
    door = front_door_stack(stack_factory)
    client_id = register(door)
    for behavior, why in WRONG.items():
        door.provider.set_behavior(id_token=behavior)
        with httpx2.Client(timeout=15, trust_env=False, follow_redirects=False) as browser:
            answer = authorize(door, browser, client_id, pkce()[1])
            assert answer.status_code == 502 and "Not signed in" in answer.text, answer.text[:500]
            assert why in answer.text and "connect it to authmcp again" in answer.text
            assert not [c for c in browser.cookies.jar if c.name == "authmcp_session"]
    door.provider.set_behavior(id_token="normal")
    with httpx2.Client(timeout=15, trust_env=False, follow_redirects=False) as browser:
        assert back_at_client(authorize(door, browser, client_id, pkce()[1])).code
