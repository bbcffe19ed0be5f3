"""The test provider (mcp_server/demo/authserver.py), run as a subprocess and spoken to over HTTP."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from authlib.oauth2 import rfc9207
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from joserfc import jwk, jwt
from joserfc.errors import ExpiredTokenError

from tests.support.fixtures import CLIENT_ID, CLIENT_SECRET, DEFAULT_REDIRECT_URI, AuthServerFactory
from tests.support.provider import AuthServer, AuthServerError

pytest_plugins = ["tests.support.fixtures"]  # harmless if tests/conftest.py loads it too

REDIRECT_URI = DEFAULT_REDIRECT_URI
BASIC = (CLIENT_ID, CLIENT_SECRET)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=10.0, trust_env=False) as client:
        yield client


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(server: AuthServer, challenge: str | None, **overrides: str | None) -> str:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid mcp",
        "state": "state-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return str(httpx2.URL(server.authorization_endpoint, params={k: v for k, v in params.items() if v is not None}))


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def get_code(
    server: AuthServer, http: httpx2.Client, username: str = "alice", scope: str = "openid mcp"
) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    location = server.consent(http, authorize_url(server, challenge, scope=scope), username)
    return query(location)["code"], verifier


def exchange(http: httpx2.Client, server: AuthServer, code: str, verifier: str | None, **extra: str) -> httpx2.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, **extra}
    if verifier is not None:
        data["code_verifier"] = verifier
    return http.post(server.token_endpoint, data=data, auth=BASIC)


def login(
    server: AuthServer, http: httpx2.Client, username: str = "alice", scope: str = "openid mcp"
) -> dict[str, Any]:
    response = exchange(http, server, *get_code(server, http, username, scope))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refresh(http: httpx2.Client, server: AuthServer, refresh_token: str, **extra: str) -> httpx2.Response:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    return http.post(server.token_endpoint, data=data, auth=BASIC)


def userinfo(http: httpx2.Client, server: AuthServer, access_token: str) -> httpx2.Response:
    return http.get(server.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"})


def assert_oauth_error(response: httpx2.Response, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error


def test_metadata_is_valid_and_served_at_both_well_known_paths(auth_server: AuthServer, http: httpx2.Client) -> None:
    oidc = http.get(f"{auth_server.base_url}/.well-known/openid-configuration").json()
    oauth = http.get(f"{auth_server.base_url}/.well-known/oauth-authorization-server").json()
    assert oidc == oauth
    AuthorizationServerMetadata(oauth).validate(metadata_classes=[rfc9207.AuthorizationServerMetadata])
    assert oauth["issuer"] == auth_server.issuer == auth_server.base_url
    assert oauth["authorization_endpoint"] == auth_server.authorization_endpoint
    assert oauth["token_endpoint"] == auth_server.token_endpoint
    assert oauth["userinfo_endpoint"] == auth_server.userinfo_endpoint
    assert oauth["revocation_endpoint"] == auth_server.revocation_endpoint
    assert oauth["jwks_uri"] == auth_server.jwks_uri
    assert oauth["code_challenge_methods_supported"] == ["S256"]
    assert oauth["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert oauth["authorization_response_iss_parameter_supported"] is True
    assert "mcp" in oauth["scopes_supported"]


def test_issuer_can_be_set(auth_server_factory: AuthServerFactory, http: httpx2.Client) -> None:
    server = auth_server_factory(issuer="https://provider.example")
    assert server.issuer == "https://provider.example"
    metadata = http.get(f"{server.base_url}/.well-known/oauth-authorization-server").json()
    assert metadata["issuer"] == "https://provider.example"
    assert metadata["token_endpoint"] == server.token_endpoint  # endpoints stay where the server is
    _verifier, challenge = pkce_pair()
    assert query(server.consent(http, authorize_url(server, challenge), "alice"))["iss"] == "https://provider.example"


def test_code_flow_with_pkce_then_userinfo(auth_server: AuthServer, http: httpx2.Client) -> None:
    verifier, challenge = pkce_pair()
    page = http.get(authorize_url(auth_server, challenge))
    assert page.status_code == 200
    assert 'name="username"' in page.text and 'value="allow"' in page.text and 'value="deny"' in page.text

    location = auth_server.consent(http, authorize_url(auth_server, challenge), "alice")
    assert location.startswith(REDIRECT_URI + "?")
    params = query(location)
    assert params["state"] == "state-123"
    assert params["iss"] == auth_server.issuer

    response = exchange(http, auth_server, params["code"], verifier)
    assert response.status_code == 200, response.text
    assert "no-store" in response.headers["cache-control"]
    token = response.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["scope"] == "openid mcp"
    assert token["access_token"] and token["refresh_token"] and token["access_token"] != token["refresh_token"]

    info = userinfo(http, auth_server, token["access_token"])
    assert info.status_code == 200
    assert info.json() == {
        "sub": "alice",
        "name": "Alice",
        "email": "alice@example.test",
        "preferred_username": "alice",
    }


def test_client_secret_post_and_bad_client_credentials(auth_server: AuthServer, http: httpx2.Client) -> None:
    code, verifier = get_code(auth_server, http)
    base = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    wrong = http.post(auth_server.token_endpoint, data=base, auth=(CLIENT_ID, "wrong-secret"))
    assert_oauth_error(wrong, "invalid_client", 401)
    anonymous = http.post(auth_server.token_endpoint, data={**base, "client_id": CLIENT_ID})
    assert_oauth_error(anonymous, "invalid_client", 401)
    posted = http.post(
        auth_server.token_endpoint, data={**base, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    assert posted.status_code == 200, posted.text


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "mcp\x7f"}, "invalid_scope"),
    ],
    ids=["no-pkce", "no-method", "plain", "implicit", "bad-scope"],
)
def test_authorize_refusals_go_back_to_the_client(
    auth_server: AuthServer, http: httpx2.Client, overrides: dict[str, str | None], error: str
) -> None:
    _, challenge = pkce_pair()
    response = http.get(authorize_url(auth_server, challenge, **overrides))
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    assert query(location)["error"] == error
    assert query(location)["state"] == "state-123"
    assert query(location)["iss"] == auth_server.issuer
    assert "code" not in query(location)


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "nobody"},
        {"client_id": None},
        {"redirect_uri": "http://127.0.0.1:8000/oauth/callback/extra"},
        {"redirect_uri": "http://evil.example/oauth/callback"},
        {"redirect_uri": None},
    ],
    ids=["unknown-client", "no-client", "longer-redirect", "other-redirect", "no-redirect"],
)
def test_authorize_refusals_without_a_trusted_redirect_show_a_page(
    auth_server: AuthServer, http: httpx2.Client, overrides: dict[str, str | None]
) -> None:
    _, challenge = pkce_pair()
    response = http.get(authorize_url(auth_server, challenge, **overrides))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "invalid_" in response.text
    with pytest.raises(AuthServerError, match="no consent form"):
        auth_server.consent(http, authorize_url(auth_server, challenge, **overrides), "alice")


def test_consent_denied(auth_server: AuthServer, http: httpx2.Client) -> None:
    _, challenge = pkce_pair()
    location = auth_server.consent(http, authorize_url(auth_server, challenge), "alice", allow=False)
    assert location.startswith(REDIRECT_URI + "?")
    params = query(location)
    assert (params["error"], params["state"], params["iss"]) == ("access_denied", "state-123", auth_server.issuer)
    assert "code" not in params


def test_consent_needs_a_username(auth_server: AuthServer, http: httpx2.Client) -> None:
    _, challenge = pkce_pair()
    response = http.post(authorize_url(auth_server, challenge), data={"username": "", "consent": "allow"})
    assert response.status_code == 400
    assert 'name="username"' in response.text  # the form again


def test_pkce_verifier_is_checked(auth_server: AuthServer, http: httpx2.Client) -> None:
    code, verifier = get_code(auth_server, http)
    assert_oauth_error(exchange(http, auth_server, code, None), "invalid_request")
    assert_oauth_error(exchange(http, auth_server, code, pkce_pair()[0]), "invalid_grant")
    assert exchange(http, auth_server, code, verifier).status_code == 200


def test_code_is_bound_to_its_redirect_uri_and_client(http: httpx2.Client) -> None:
    other = ("other-client", "other-secret", "http://127.0.0.1:9999/cb")
    with AuthServer.start(clients=[(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI), other]) as server:
        code, verifier = get_code(server, http)
        moved = exchange(http, server, code, verifier, redirect_uri="http://127.0.0.1:9999/cb")
        assert_oauth_error(moved, "invalid_grant")
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        }
        stolen = http.post(server.token_endpoint, data=data, auth=("other-client", "other-secret"))
        assert_oauth_error(stolen, "invalid_grant")
        assert exchange(http, server, code, verifier).status_code == 200
    assert not server.running


def test_code_reuse_is_refused_and_revokes_its_tokens(auth_server: AuthServer, http: httpx2.Client) -> None:
    code, verifier = get_code(auth_server, http)
    first = exchange(http, auth_server, code, verifier)
    assert first.status_code == 200
    token = first.json()
    assert userinfo(http, auth_server, token["access_token"]).status_code == 200

    assert_oauth_error(exchange(http, auth_server, code, verifier), "invalid_grant")
    assert userinfo(http, auth_server, token["access_token"]).status_code == 401
    assert_oauth_error(refresh(http, auth_server, token["refresh_token"]), "invalid_grant")


def test_refresh_rotates(auth_server: AuthServer, http: httpx2.Client) -> None:
    first = login(auth_server, http)
    second = refresh(http, auth_server, first["refresh_token"]).json()
    assert second["token_type"] == "Bearer"
    assert second["scope"] == "openid mcp"
    assert second["expires_in"] == 3600
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert userinfo(http, auth_server, second["access_token"]).json()["sub"] == "alice"
    third = refresh(http, auth_server, second["refresh_token"])
    assert third.status_code == 200
    assert third.json()["refresh_token"] not in (first["refresh_token"], second["refresh_token"])


def test_reusing_a_rotated_refresh_token_revokes_the_grant(auth_server: AuthServer, http: httpx2.Client) -> None:
    first = login(auth_server, http)
    second = refresh(http, auth_server, first["refresh_token"]).json()
    bystander = login(auth_server, http, "bob")

    assert_oauth_error(refresh(http, auth_server, first["refresh_token"]), "invalid_grant")
    assert userinfo(http, auth_server, first["access_token"]).status_code == 401
    assert userinfo(http, auth_server, second["access_token"]).status_code == 401
    assert_oauth_error(refresh(http, auth_server, second["refresh_token"]), "invalid_grant")
    assert userinfo(http, auth_server, bystander["access_token"]).status_code == 200


def test_concurrent_refreshes_with_one_token_have_one_winner(auth_server: AuthServer, http: httpx2.Client) -> None:
    token = login(auth_server, http)
    barrier = threading.Barrier(8)

    def attempt(_: int) -> httpx2.Response:
        barrier.wait()
        return refresh(http, auth_server, token["refresh_token"])

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(attempt, range(8)))
    assert sorted(a.status_code for a in answers) == [200] + [400] * 7
    winner = next(a.json() for a in answers if a.status_code == 200)
    # The losers presented a rotated token: the grant is gone, the winner's tokens with it.
    assert userinfo(http, auth_server, winner["access_token"]).status_code == 401


def test_refresh_may_narrow_but_not_widen_scope(auth_server: AuthServer, http: httpx2.Client) -> None:
    first = login(auth_server, http)
    assert_oauth_error(refresh(http, auth_server, first["refresh_token"], scope="openid mcp email"), "invalid_scope")
    narrower = refresh(http, auth_server, first["refresh_token"], scope="mcp")
    assert narrower.status_code == 200, narrower.text
    assert narrower.json()["scope"] == "mcp"
    again = refresh(http, auth_server, narrower.json()["refresh_token"])
    assert again.json()["scope"] == "openid mcp"  # the grant keeps its scope


def test_without_rotation_the_refresh_token_stays(auth_server_factory: AuthServerFactory, http: httpx2.Client) -> None:
    server = auth_server_factory(rotate_refresh=False)
    first = login(server, http)
    answers = [refresh(http, server, first["refresh_token"]) for _ in range(2)]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert "refresh_token" not in answer.json()
    for access_token in [first["access_token"]] + [a.json()["access_token"] for a in answers]:
        assert userinfo(http, server, access_token).status_code == 200


def test_access_ttl(auth_server_factory: AuthServerFactory, http: httpx2.Client) -> None:
    server = auth_server_factory(access_ttl=120)
    first = login(server, http)
    assert first["expires_in"] == 120
    assert refresh(http, server, first["refresh_token"]).json()["expires_in"] == 120


def test_userinfo_refuses_bad_tokens(auth_server: AuthServer, http: httpx2.Client) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YTpi"}):
        response = http.get(auth_server.userinfo_endpoint, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_revocation(auth_server: AuthServer, http: httpx2.Client) -> None:
    token = login(auth_server, http)
    revoke = auth_server.revocation_endpoint

    assert http.post(revoke, data={"token": token["access_token"]}, auth=BASIC).status_code == 200
    assert userinfo(http, auth_server, token["access_token"]).status_code == 401
    renewed = refresh(http, auth_server, token["refresh_token"])  # an access token's revocation spares the grant
    assert renewed.status_code == 200

    data = {"token": renewed.json()["refresh_token"], "token_type_hint": "refresh_token"}
    assert http.post(revoke, data={**data, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}).status_code == 200
    assert_oauth_error(refresh(http, auth_server, renewed.json()["refresh_token"]), "invalid_grant")
    assert userinfo(http, auth_server, renewed.json()["access_token"]).status_code == 401

    assert http.post(revoke, data={"token": "never-issued"}, auth=BASIC).status_code == 200
    assert_oauth_error(http.post(revoke, data={"token": "never-issued"}), "invalid_client", 401)
    assert auth_server.stats()["revocations"] == 4


def test_expire_access_tokens(auth_server: AuthServer, http: httpx2.Client) -> None:
    alice, bob = login(auth_server, http, "alice"), login(auth_server, http, "bob")
    assert auth_server.expire_access_tokens("alice") == 1
    assert userinfo(http, auth_server, alice["access_token"]).status_code == 401
    assert userinfo(http, auth_server, bob["access_token"]).status_code == 200
    renewed = refresh(http, auth_server, alice["refresh_token"])
    assert renewed.status_code == 200
    assert userinfo(http, auth_server, renewed.json()["access_token"]).status_code == 200
    assert auth_server.expire_access_tokens() == 2  # alice's new one and bob's
    assert userinfo(http, auth_server, bob["access_token"]).status_code == 401


def test_revoke_user(auth_server: AuthServer, http: httpx2.Client) -> None:
    alice, bob = login(auth_server, http, "alice"), login(auth_server, http, "bob")
    assert auth_server.revoke_user("alice") == 1
    assert userinfo(http, auth_server, alice["access_token"]).status_code == 401
    assert_oauth_error(refresh(http, auth_server, alice["refresh_token"]), "invalid_grant")
    assert userinfo(http, auth_server, bob["access_token"]).status_code == 200
    assert refresh(http, auth_server, bob["refresh_token"]).status_code == 200


def test_token_endpoint_can_hang(auth_server: AuthServer) -> None:
    auth_server.set_behavior(token_endpoint="hang")
    with httpx2.Client(timeout=1.0, trust_env=False) as impatient:
        started = time.monotonic()
        with pytest.raises(httpx2.ReadTimeout):
            refresh(impatient, auth_server, "anything")
        assert time.monotonic() - started < 5
    assert auth_server.stats()["token_requests"]["refresh_token"] == 1
    auth_server.set_behavior(token_endpoint="normal")
    with httpx2.Client(timeout=5.0, trust_env=False) as http:
        assert_oauth_error(refresh(http, auth_server, "anything"), "invalid_grant")
    auth_server.stop()  # while the first request still sleeps
    assert auth_server.returncode == 0


def test_token_endpoint_can_echo_secrets(auth_server: AuthServer, http: httpx2.Client) -> None:
    code, verifier = get_code(auth_server, http)
    auth_server.set_behavior(token_endpoint="error_400_echo")
    echoed = exchange(http, auth_server, code, verifier)
    assert echoed.status_code == 400
    assert echoed.json() == {"error": "invalid_request", "error_description": f"bad code {code}"}

    auth_server.set_behavior(token_endpoint="error_500_html")
    broken = refresh(http, auth_server, "a-refresh-token-value")
    assert broken.status_code == 500
    assert broken.headers["content-type"].startswith("text/html")
    assert "a-refresh-token-value" in broken.text

    auth_server.set_behavior(token_endpoint="normal")
    assert exchange(http, auth_server, code, verifier).status_code == 200  # the misbehaving answers spent nothing


def test_revocation_endpoint_can_fail(auth_server: AuthServer, http: httpx2.Client) -> None:
    token = login(auth_server, http)
    auth_server.set_behavior(revocation_endpoint="error_503")
    assert (
        http.post(auth_server.revocation_endpoint, data={"token": token["access_token"]}, auth=BASIC).status_code == 503
    )
    assert userinfo(http, auth_server, token["access_token"]).status_code == 200
    auth_server.set_behavior(revocation_endpoint="normal")
    assert (
        http.post(auth_server.revocation_endpoint, data={"token": token["access_token"]}, auth=BASIC).status_code == 200
    )


def test_authorization_responses_can_leave_out_iss_or_name_another_issuer(
    auth_server: AuthServer, http: httpx2.Client
) -> None:
    metadata = http.get(f"{auth_server.base_url}/.well-known/oauth-authorization-server").json()
    _verifier, challenge = pkce_pair()
    auth_server.set_behavior(authorization_response_iss="omit")  # still advertised: what a mix-up attack sends
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert "iss" not in query(auth_server.consent(http, authorize_url(auth_server, challenge), "alice"))
    assert "iss" not in query(auth_server.consent(http, authorize_url(auth_server, challenge), "alice", allow=False))
    auth_server.set_behavior(authorization_response_iss="wrong")
    sent = query(auth_server.consent(http, authorize_url(auth_server, challenge), "alice"))["iss"]
    assert sent != auth_server.issuer
    auth_server.set_behavior(authorization_response_iss="send")
    assert query(auth_server.consent(http, authorize_url(auth_server, challenge), "alice"))["iss"] == auth_server.issuer
    with pytest.raises(AuthServerError, match="HTTP 400"):
        auth_server.set_behavior(authorization_response_iss="sometimes")


def test_behavior_rejects_unknown_values(auth_server: AuthServer) -> None:
    with pytest.raises(AuthServerError, match="HTTP 400"):
        auth_server.set_behavior(token_endpoint="explode")


def test_mint_jwt_verifies_against_jwks(auth_server: AuthServer, http: httpx2.Client) -> None:
    keys = jwk.KeySet.import_key_set(http.get(auth_server.jwks_uri).json())
    (public_key,) = keys.keys
    assert "d" not in public_key.as_dict()  # no private part published

    token = jwt.decode(auth_server.mint_jwt("alice", "http://127.0.0.1:1234/mcp"), keys, algorithms=["RS256"])
    assert token.header == {"alg": "RS256", "kid": public_key.kid, "typ": "at+jwt"}
    claims = token.claims
    assert (claims["iss"], claims["sub"], claims["aud"], claims["scope"]) == (
        auth_server.issuer,
        "alice",
        "http://127.0.0.1:1234/mcp",
        "mcp",
    )
    assert claims["exp"] - claims["iat"] == 3600
    registry = jwt.JWTClaimsRegistry(iss={"essential": True, "value": auth_server.issuer})
    registry.validate(claims)

    expired = jwt.decode(auth_server.mint_jwt("alice", "x", expires_in=-60, scope="mcp read"), keys)
    assert expired.claims["scope"] == "mcp read"
    with pytest.raises(ExpiredTokenError):
        jwt.JWTClaimsRegistry().validate(expired.claims)


def test_stats_count_every_request_and_reset(auth_server: AuthServer, http: httpx2.Client) -> None:
    token = login(auth_server, http)
    refresh(http, auth_server, token["refresh_token"])
    refresh(http, auth_server, "bogus")
    exchange(http, auth_server, "bogus", "x" * 43)
    userinfo(http, auth_server, token["access_token"])
    userinfo(http, auth_server, "bogus")
    http.post(auth_server.revocation_endpoint, data={"token": "bogus"}, auth=BASIC)
    assert auth_server.stats() == {
        "token_requests": {"authorization_code": 2, "refresh_token": 2},
        "revocations": 1,
        "userinfo_requests": 2,
    }
    auth_server.reset_stats()
    assert auth_server.stats() == {
        "token_requests": {"authorization_code": 0, "refresh_token": 0},
        "revocations": 0,
        "userinfo_requests": 0,
    }


def test_consent_follows_redirects_to_the_authorize_page(auth_server: AuthServer) -> None:
    verifier, challenge = pkce_pair()
    target = authorize_url(auth_server, challenge)

    def redirector(request: httpx2.Request) -> httpx2.Response:
        hops = {"/connect": "/step", "/step": target}
        return httpx2.Response(302, headers={"Location": hops[request.url.path]})

    mounts = {"http://app.test": httpx2.MockTransport(redirector)}
    with httpx2.Client(mounts=mounts, timeout=10.0, trust_env=False) as client:
        location = auth_server.consent(client, "http://app.test/connect", "carol")
        code = query(location)["code"]
    with httpx2.Client(timeout=10.0, trust_env=False) as http:
        token = exchange(http, auth_server, code, verifier).json()
        assert userinfo(http, auth_server, token["access_token"]).json()["sub"] == "carol"


@pytest.mark.anyio
async def test_aconsent(auth_server: AuthServer) -> None:
    verifier, challenge = pkce_pair()
    async with httpx2.AsyncClient(timeout=10.0, trust_env=False) as client:
        location = await auth_server.aconsent(client, authorize_url(auth_server, challenge), "dave")
        data = {"grant_type": "authorization_code", "code": query(location)["code"], "redirect_uri": REDIRECT_URI}
        response = await client.post(auth_server.token_endpoint, data={**data, "code_verifier": verifier}, auth=BASIC)
    assert response.status_code == 200, response.text
    assert query(location)["iss"] == auth_server.issuer


def test_no_token_value_reaches_the_log(auth_server: AuthServer, http: httpx2.Client) -> None:
    code, verifier = get_code(auth_server, http)
    token = exchange(http, auth_server, code, verifier).json()
    refreshed = refresh(http, auth_server, token["refresh_token"]).json()
    refresh(http, auth_server, token["refresh_token"])  # reuse: logged as an event, without the value
    log = auth_server.log_text()
    assert "POST /token" in log and "reused" in log
    for secret in (code, token["access_token"], token["refresh_token"], refreshed["refresh_token"], verifier):
        assert secret not in log


def test_start_reports_why_the_server_died() -> None:
    with pytest.raises(AuthServerError, match="access-ttl must be at least 1"):
        AuthServer.start(clients=[(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)], access_ttl=0)


def test_stop_ends_the_process(http: httpx2.Client) -> None:
    server = AuthServer.start(clients=[(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)])
    try:
        assert http.get(server.jwks_uri).status_code == 200
    finally:
        server.stop()
    assert not server.running
    assert server.returncode == 0  # SIGTERM is a clean exit, not a crash
    with pytest.raises(httpx2.ConnectError):
        http.get(server.jwks_uri)
    server.stop()  # twice is fine
