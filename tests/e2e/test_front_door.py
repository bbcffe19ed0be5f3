"""The front door: authmcp as the OAuth 2.1 authorization server of its MCP clients, over real HTTP.

A real `authmcp serve --transport http` with `[front_door]` signing people in at the strict test provider; the
client side is plain HTTP requests (the SDK's own client is in test_front_door_client.py), the browser an HTTP
client that keeps cookies.
"""

from __future__ import annotations

from typing import Any

import httpx2

from tests.e2e.conftest import Stack
from tests.e2e.front_door_steps import (  # noqa: F401 - door and browser are fixtures
    REDIRECT_URI,
    authorize,
    back_at_client,
    browser,
    connected,
    door,
    exchange,
    front_door_stack,
    initialize,
    pkce,
    register,
    token,
)


def test_metadata_names_this_server(door: Stack) -> None:
    challenge = initialize(door, None)
    assert challenge.status_code == 401
    resource_metadata = f"{door.base_url}/.well-known/oauth-protected-resource/mcp"
    assert f'resource_metadata="{resource_metadata}"' in challenge.headers["www-authenticate"]
    protected = httpx2.get(resource_metadata).json()
    assert protected["resource"] == f"{door.base_url}/mcp"
    assert protected["authorization_servers"] == [door.base_url]
    server = httpx2.get(f"{door.base_url}/.well-known/oauth-authorization-server").json()
    assert server["issuer"] == door.base_url
    for endpoint in ("authorization", "token", "registration", "revocation"):
        assert server[f"{endpoint}_endpoint"].startswith(door.base_url + "/")
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert server["client_id_metadata_document_supported"] is True
    assert set(server["grant_types_supported"]) == {"authorization_code", "refresh_token"}
    assert "none" in server["token_endpoint_auth_methods_supported"]


def test_sign_in_consent_and_a_token_for_mcp(door: Stack, browser: httpx2.Client) -> None:
    userinfo_before = door.provider.stats()["userinfo_requests"]
    client_id = register(door)
    verifier, challenge = pkce()
    answer = authorize(door, browser, client_id, challenge, resource=f"{door.base_url}/mcp")
    back = back_at_client(answer)
    assert back.params["state"] == "st-1"
    assert back.params["iss"] == door.base_url
    # an OpenID provider: who signed in came from its verified ID token (with our nonce), not from userinfo
    assert door.provider.stats()["userinfo_requests"] == userinfo_before
    cookie = next(c for c in browser.cookies.jar if c.name == "authmcp_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.domain_specified is False
    tokens = exchange(door, client_id, back.code, verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"].lower() == "bearer" and body["refresh_token"]
    assert initialize(door, body["access_token"]).status_code == 200
    assert body["access_token"] not in door.output() and back.code not in door.output()


def test_a_plain_oauth2_sign_in_provider_is_read_through_userinfo(stack_factory: Any, browser: httpx2.Client) -> None:
    door = front_door_stack(stack_factory, sign_in_scopes=("profile",))
    before = door.provider.stats()["userinfo_requests"]
    _, tokens = connected(door, browser)
    assert door.provider.stats()["userinfo_requests"] == before + 1
    assert initialize(door, tokens["access_token"]).status_code == 200


def test_an_approved_client_is_not_asked_about_again(door: Stack, browser: httpx2.Client) -> None:
    client_id, _ = connected(door, browser)
    verifier, challenge = pkce()
    answer = browser.get(
        f"{door.base_url}/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "code_challenge": challenge,
            "state": "again",
        },
    )
    answer = browser.get(answer.url.join(answer.headers["location"]))  # /authorize/continue: straight back
    back = back_at_client(answer)
    assert back.params["state"] == "again"
    assert exchange(door, client_id, back.code, verifier).status_code == 200


def test_no_pkce_is_refused(door: Stack, browser: httpx2.Client) -> None:
    client_id = register(door)
    answer = authorize(door, browser, client_id, None)
    back = back_at_client(answer)
    assert back.params["error"] == "invalid_request"
    assert "code" not in back.params


def test_a_wrong_resource_is_refused(door: Stack, browser: httpx2.Client) -> None:
    client_id = register(door)
    _, challenge = pkce()
    answer = authorize(door, browser, client_id, challenge, resource="https://other.example/mcp")
    back = back_at_client(answer)
    assert back.params["error"] == "invalid_target"


def test_a_reused_code_is_refused_and_ends_its_grant(door: Stack, browser: httpx2.Client) -> None:
    client_id = register(door)
    verifier, challenge = pkce()
    code = back_at_client(authorize(door, browser, client_id, challenge)).code
    first = exchange(door, client_id, code, verifier)
    assert first.status_code == 200
    again = exchange(door, client_id, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert initialize(door, first.json()["access_token"]).status_code == 401


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_grant(door: Stack, browser: httpx2.Client) -> None:
    client_id, first = connected(door, browser)
    rotated = token(door, grant_type="refresh_token", refresh_token=first["refresh_token"], client_id=client_id)
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert initialize(door, second["access_token"]).status_code == 200
    replay = token(door, grant_type="refresh_token", refresh_token=first["refresh_token"], client_id=client_id)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert initialize(door, second["access_token"]).status_code == 401
    after = token(door, grant_type="refresh_token", refresh_token=second["refresh_token"], client_id=client_id)
    assert after.status_code == 400


def test_a_revoked_token_gets_401_at_once(door: Stack, browser: httpx2.Client) -> None:
    client_id, tokens = connected(door, browser)
    assert initialize(door, tokens["access_token"]).status_code == 200
    revoked = httpx2.post(
        f"{door.base_url}/revoke",
        data={"token": tokens["access_token"], "client_id": client_id},
    )
    assert revoked.status_code == 200
    assert initialize(door, tokens["access_token"]).status_code == 401
    refresh = token(door, grant_type="refresh_token", refresh_token=tokens["refresh_token"], client_id=client_id)
    assert refresh.status_code == 400


def test_deny_sends_access_denied(door: Stack, browser: httpx2.Client) -> None:
    client_id = register(door)
    _, challenge = pkce()
    back = back_at_client(authorize(door, browser, client_id, challenge, decision="deny"))
    assert back.params["error"] == "access_denied" and back.params["state"] == "st-1"
    assert "code" not in back.params


def test_a_consent_form_without_the_signed_in_browser_is_refused(door: Stack) -> None:
    with httpx2.Client(timeout=10, trust_env=False) as stranger:
        forged = stranger.post(
            f"{door.base_url}/authorize/decide",
            data={"request": "x", "csrf": "y", "decision": "approve"},
            headers={"Origin": door.base_url},
        )
    assert forged.status_code == 403


def test_a_registration_flood_is_refused(door: Stack) -> None:
    answers = [
        httpx2.post(
            f"{door.base_url}/register",
            json={"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"},
            timeout=10,
        )
        for _ in range(25)
    ]
    statuses = [a.status_code for a in answers]
    assert statuses[:20] == [201] * 20
    assert all(s == 400 for s in statuses[20:])
    assert "too many registrations" in answers[-1].json()["error_description"]
    too_large = httpx2.post(
        f"{door.base_url}/register",
        content=b'{"redirect_uris": ["' + b"a" * 20_000 + b'"]}',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert too_large.status_code == 413


def test_redirect_uris_match_exactly_but_for_a_loopback_port(door: Stack, browser: httpx2.Client) -> None:
    client_id = register(door)
    _, challenge = pkce()
    other_port = REDIRECT_URI.replace("33418", "40001")
    answer = authorize(door, browser, client_id, challenge, redirect_uri=other_port)
    location = answer.headers["location"]
    assert location.startswith(other_port) and "code=" in location
    elsewhere = browser.get(
        f"{door.base_url}/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": "http://127.0.0.1:33418/other",
            "code_challenge": challenge,
        },
    )
    assert elsewhere.status_code == 400 and "code=" not in elsewhere.headers.get("location", "")


def test_allowed_domains_refuse_other_people(stack_factory: Any, browser: httpx2.Client) -> None:
    door = front_door_stack(stack_factory, front_door={"allowed_domains": ["other.test"]})
    _, challenge = pkce()
    page = authorize(door, browser, register(door), challenge)
    assert page.status_code == 403 and "email domain" in page.text
    assert not [c for c in browser.cookies.jar if c.name == "authmcp_session"]


def test_user_claim_email_makes_the_email_the_user_id(stack_factory: Any, browser: httpx2.Client) -> None:
    door = front_door_stack(stack_factory, front_door={"user_claim": "email", "allowed_domains": ["example.test"]})
    connected(door, browser)
    home = browser.get(f"{door.base_url}/")
    assert home.status_code == 200 and "signed in as &#x27;alice@example.test&#x27;" in home.text


def test_a_sign_in_finished_in_another_browser_signs_nobody_in(door: Stack, browser: httpx2.Client) -> None:
    """Login CSRF: the attacker signs in as himself but hands his callback URL to the victim's browser."""
    _, challenge = pkce()
    query = {"response_type": "code", "client_id": register(door), "redirect_uri": REDIRECT_URI}
    with httpx2.Client(timeout=15, trust_env=False) as attacker:
        answer = attacker.get(f"{door.base_url}/authorize", params={**query, "code_challenge": challenge})
        answer = attacker.get(answer.url.join(answer.headers["location"]))  # /authorize/continue: to the sign-in
        callback = door.provider.consent(attacker, answer.headers["location"], "mallory")
    planted = browser.get(callback)
    assert planted.status_code == 403 and "another browser" in planted.text
    assert not [c for c in browser.cookies.jar if c.name == "authmcp_session"]
