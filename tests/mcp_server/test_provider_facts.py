"""Provider facts the catalogue states as data: a separate refresh URL (Figma), errors reported in HTTP 200
answers (Slack's `ok` flag), token-response extras kept for tools (Salesforce's `instance_url`), and the scope
Zoom's userinfo endpoint needs. Each against a stand-in answering in the provider's documented format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mcp_server.calls.catalog import load_catalog
from mcp_server.calls.orchestration import ToolEnvironment, tool_context
from mcp_server.config import ProviderSettings
from mcp_server.errors import ConfigError, OAuthError, ProviderUnavailable
from mcp_server.providers import Provider, ProviderRegistry, oauth2
from mcp_server.vault import Connection
from tests.e2e.toolkit_harness import standin

pytestmark = pytest.mark.anyio

# https://developers.figma.com/docs/rest-api/authentication/ ("Refreshing OAuth tokens"): the answer to a refresh
# carries a new access token and its lifetime, no new refresh token.
FIGMA_REFRESHED = {"access_token": "figma-at-2", "token_type": "bearer", "expires_in": 7776000}
# https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_web_server_flow.htm (example token answer)
SALESFORCE_TOKEN = {
    "access_token": "00DB0000000TfcR!AQQAQFhoK8vTMg_rKA.esrJ2bCs.OOIjJgl.9Cx6O7KqjZmHMLOyVb.U61BU9tm4xRusf7d3fD1P"
    "9oefzqS6i9sJMPWj48IK",
    "signature": "d/SxeYBxH0GSVko0HMgcUxuZy0PA2cDDz1u7g7JtDHw=",
    "scope": "refresh_token web openid",
    "id_token": "eyJraWQiOiIyMjAiLCJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdF9oYXNoIjoiSVZmb...",
    "instance_url": "https://yourInstance.salesforce.com",
    "id": "https://login.salesforce.com/id/00DB0000000TfcRMAS/005B0000005Bk90IAC",
    "token_type": "Bearer",
    "issued_at": "1558553873237",
}
# https://docs.slack.dev/reference/methods/auth.revoke (example response; errors per
# https://docs.slack.dev/apis/web-api/#responses, under HTTP 200)
SLACK_REVOKED = {"ok": True, "revoked": True}


class Recorder:
    """A stand-in OAuth server: answers each path with the next queued body (HTTP 200), recording requests."""

    def __init__(self, **answers: dict[str, Any]) -> None:
        self.answers = answers
        self.requests: list[tuple[str, str, dict[str, str], str]] = []

    async def handle(self, request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode()))
        self.requests.append((request.method, request.url.path, form, request.headers.get("authorization", "")))
        return JSONResponse(self.answers[request.url.path.strip("/")])

    def app(self) -> Starlette:
        return Starlette(routes=[Route(f"/{path}", self.handle, methods=["POST"]) for path in self.answers])


@pytest.fixture
def serve() -> Iterator[Any]:
    with_servers: list[Any] = []

    def start(recorder: Recorder) -> str:
        context = standin(recorder.app())
        with_servers.append(context)
        return context.__enter__()

    yield start
    for context in with_servers:
        context.__exit__(None, None, None)


def provider(provider_id: str, **urls: str) -> Provider:
    settings = ProviderSettings(client_id="app-id", client_secret="app-secret", **urls)  # type: ignore[arg-type]
    resolved = ProviderRegistry({provider_id: settings}).get(provider_id)
    assert resolved is not None
    return resolved


# --------------------------------------------------------------------------------------------- refresh_url


def test_figma_refreshes_at_its_documented_refresh_endpoint() -> None:
    figma = ProviderRegistry({}).get("figma")
    assert figma is not None
    assert figma.refresh_url == "https://api.figma.com/v1/oauth/refresh"
    assert figma.token_url == "https://api.figma.com/v1/oauth/token"


async def test_refresh_goes_to_refresh_url_when_set_and_keeps_the_refresh_token(serve: Any) -> None:
    recorder = Recorder(token={"error": "unsupported_grant_type"}, refresh=FIGMA_REFRESHED)
    base = serve(recorder)
    figma = provider("figma", token_url=f"{base}/token", refresh_url=f"{base}/refresh")
    tokens = await oauth2.refresh(figma, refresh_token="figma-rt-1", timeout=5)
    ((method, path, form, auth),) = recorder.requests
    assert (method, path) == ("POST", "/refresh")
    assert form == {"grant_type": "refresh_token", "refresh_token": "figma-rt-1"}
    assert auth.startswith("Basic ")  # client_secret_basic, as the catalogue says for Figma
    assert (tokens.access_token, tokens.refresh_token) == ("figma-at-2", "figma-rt-1")  # the old one stays


async def test_refresh_goes_to_token_url_without_refresh_url(serve: Any) -> None:
    recorder = Recorder(token=FIGMA_REFRESHED)
    base = serve(recorder)
    box = provider("box", token_url=f"{base}/token")
    assert box.refresh_url is None
    await oauth2.refresh(box, refresh_token="rt", timeout=5)
    assert [r[1] for r in recorder.requests] == ["/token"]


# --------------------------------------------------------------------------------------------- ok flag


async def test_slack_revocation_answering_ok_true_is_revoked(serve: Any) -> None:
    recorder = Recorder(revoke=SLACK_REVOKED)
    slack = provider("slack", revocation_url=f"{serve(recorder)}/revoke")
    assert slack.error_style == "ok_flag"
    assert await oauth2.revoke(slack, token="xoxp-1", token_type_hint="access_token", timeout=5) is True
    ((_, _, form, _),) = recorder.requests
    assert form["token"] == "xoxp-1"


async def test_slack_revocation_answering_ok_false_is_not_counted_as_revoked(serve: Any) -> None:
    recorder = Recorder(revoke={"ok": False, "error": "invalid_auth"})
    slack = provider("slack", revocation_url=f"{serve(recorder)}/revoke")
    with pytest.raises(OAuthError, match=r"refused to revoke the token \(invalid_auth\)"):
        await oauth2.revoke(slack, token="xoxp-1", token_type_hint="access_token", timeout=5)


async def test_slack_revocation_with_a_transient_error_code_is_retried_later(serve: Any) -> None:
    recorder = Recorder(revoke={"ok": False, "error": "internal_error"})
    slack = provider("slack", revocation_url=f"{serve(recorder)}/revoke")
    with pytest.raises(ProviderUnavailable, match="internal_error"):
        await oauth2.revoke(slack, token="xoxp-1", token_type_hint="access_token", timeout=5)


async def test_an_http_style_provider_ignores_the_body_of_a_200_revocation(serve: Any) -> None:
    recorder = Recorder(revoke={"ok": False})
    box = provider("box", revocation_url=f"{serve(recorder)}/revoke")
    assert box.error_style == "http"
    assert await oauth2.revoke(box, token="t", token_type_hint="access_token", timeout=5) is True


# --------------------------------------------------------------------------------------------- token extras


async def test_salesforce_keeps_instance_url_from_the_token_answer(serve: Any) -> None:
    recorder = Recorder(token=SALESFORCE_TOKEN)
    salesforce = provider("salesforce", token_url=f"{serve(recorder)}/token")
    assert salesforce.token_extras == ("instance_url",)
    tokens = await oauth2.exchange_code(
        salesforce,
        code="aPrx",
        redirect_uri="https://authmcp.example/oauth/callback",
        code_verifier="v" * 64,
        timeout=5,
    )
    assert tokens.extras == {"instance_url": "https://yourInstance.salesforce.com"}  # and not id_token, id, ...


async def test_providers_without_token_extras_keep_none(serve: Any) -> None:
    recorder = Recorder(token=SALESFORCE_TOKEN)
    gitlab = provider("gitlab", token_url=f"{serve(recorder)}/token")
    tokens = await oauth2.exchange_code(
        gitlab, code="c", redirect_uri="https://authmcp.example/oauth/callback", code_verifier="v" * 64, timeout=5
    )
    assert tokens.extras == {}


def test_token_extras_can_never_name_a_token() -> None:
    with pytest.raises(ConfigError, match="token_extras names refresh_token"):
        ProviderRegistry({"salesforce": ProviderSettings(token_extras=["instance_url", "refresh_token"])})


def test_a_tool_reads_extras_and_the_error_style_from_its_context() -> None:
    registry = ProviderRegistry({"salesforce": ProviderSettings(client_id="a", client_secret="b")})
    definition = next(iter(load_catalog(["toolkits.slack"], registry)))  # the context does not depend on it
    connection = Connection(
        user_id="alice",
        provider_id="salesforce",
        status="active",
        scopes=("api",),
        access_token="at",
        refresh_token=None,
        token_type="Bearer",
        expires_at=None,
        user_info={},
        version=1,
        updated_at=0.0,
        token_extras={"instance_url": "https://yourInstance.salesforce.com"},
    )
    environment = ToolEnvironment(http=None, toolkit_settings={}, providers=registry)  # type: ignore[arg-type]
    context = tool_context("alice", definition, connection, {}, environment)
    assert context.authorization is not None
    assert context.authorization.extras == {"instance_url": "https://yourInstance.salesforce.com"}
    assert context.authorization.error_style == "http"
    slack = tool_context(
        "alice",
        definition,
        Connection(**{**connection.__dict__, "provider_id": "slack"}),
        {},
        ToolEnvironment(http=None, toolkit_settings={}, providers=ProviderRegistry({})),
    )  # type: ignore[arg-type]
    assert slack.authorization is not None and slack.authorization.error_style == "ok_flag"


# --------------------------------------------------------------------------------------------- Zoom userinfo


def test_zoom_asks_for_the_scope_its_userinfo_endpoint_needs() -> None:
    zoom = provider("zoom")
    assert zoom.userinfo_url == "https://api.zoom.us/v2/users/me"
    assert "user:read:user" in zoom.scopes
    url = oauth2.authorization_url(
        zoom,
        redirect_uri="https://authmcp.example/oauth/callback",
        scopes=[*zoom.scopes, "meeting:read:meeting"],
        state="s",
        code_verifier="v" * 64,
    )
    assert dict(parse_qsl(url.split("?", 1)[1]))["scope"] == "user:read:user meeting:read:meeting"
