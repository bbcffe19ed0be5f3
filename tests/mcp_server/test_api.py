"""The `/v1` API in process: the assembled HTTP app over ASGI, consent at the real test provider, and every
answer read back with the official client's own types (`arcadepy.types`)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from arcadepy import AsyncArcade
from arcadepy.types import ConfirmUserResponse, ExecuteToolResponse, ToolDefinition
from arcadepy.types.shared import AuthorizationResponse, Error
from mcp import Client
from starlette.applications import Starlette

from mcp_server.serving.runtime import Runtime, open_runtime
from mcp_server.serving.web_app import create_http_app
from mcp_server.web.api import ALREADY_COMPLETED_ID, MAX_BODY_BYTES
from tests.support import api_toolkit, sample_toolkit
from tests.support.fixtures import CLIENT_ID, CLIENT_SECRET, DEFAULT_REDIRECT_URI
from tests.support.provider import AuthServer
from tests.support.waiting import parked, woken_by

pytestmark = pytest.mark.anyio

PUBLIC_URL = DEFAULT_REDIRECT_URI.removesuffix("/oauth/callback")
KEY = "ak-test-7f3c9e21"
CANARY = "canary-9d1f"


@dataclass
class Api:
    """authmcp's HTTP app with an API client holding the key, and a browser for the person's part."""

    runtime: Runtime
    app: Starlette
    http: httpx2.AsyncClient
    provider: AuthServer
    # the person's browser: its cookies (a flow's link is bound to the browser that opened it) outlive one request
    cookies: httpx2.Cookies = field(default_factory=httpx2.Cookies)

    async def get(self, path: str, **params: str) -> httpx2.Response:
        return await self.http.get(f"/v1{path}", params=params)

    async def post(self, path: str, body: Any) -> httpx2.Response:
        if isinstance(body, bytes):
            return await self.http.post(f"/v1{path}", content=body, headers={"Content-Type": "application/json"})
        return await self.http.post(f"/v1{path}", json=body)

    async def callback_url(self, connect_url: str, username: str, *, allow: bool = True) -> str:
        """Open the link and answer the provider's consent form; the redirect back to authmcp, not yet followed."""
        async with self.browser() as browser:
            return await self.provider.aconsent(browser, connect_url, username, allow=allow)

    async def land(self, callback_url: str) -> httpx2.Response:
        async with self.browser() as browser:
            return await browser.get(callback_url)

    async def browse(self, connect_url: str, username: str = "alice", *, allow: bool = True) -> httpx2.Response:
        return await self.land(await self.callback_url(connect_url, username, allow=allow))

    @contextlib.asynccontextmanager
    async def browser(self) -> AsyncIterator[httpx2.AsyncClient]:
        mounts = {PUBLIC_URL: httpx2.ASGITransport(app=self.app)}
        async with httpx2.AsyncClient(mounts=mounts, timeout=10, trust_env=False, cookies=self.cookies) as browser:
            yield browser
            self.cookies.update(browser.cookies)

    async def authorize(self, user_id: str = "alice", tool: str = "Gmail.ListEmails") -> AuthorizationResponse:
        response = await self.post("/tools/authorize", {"tool_name": tool, "user_id": user_id})
        assert response.status_code == 200, response.text
        return AuthorizationResponse.model_validate(response.json())

    async def status(self, flow_id: str, wait: int | None = None) -> AuthorizationResponse:
        response = await self.get("/auth/status", id=flow_id, **({"wait": str(wait)} if wait is not None else {}))
        assert response.status_code == 200, response.text
        return AuthorizationResponse.model_validate(response.json())

    async def execute(self, tool: str, user_id: str = "alice", **input: Any) -> ExecuteToolResponse:
        response = await self.post("/tools/execute", {"tool_name": tool, "user_id": user_id, "input": input})
        assert response.status_code == 200, response.text
        return ExecuteToolResponse.model_validate(response.json())

    async def tool(self, name: str, **params: str) -> ToolDefinition:
        response = await self.get(f"/tools/{name}", **params)
        assert response.status_code == 200, response.text
        return ToolDefinition.model_validate(response.json())

    async def connect(self, user_id: str = "alice", tool: str = "Gmail.ListEmails") -> None:
        pending = await self.authorize(user_id, tool)
        assert pending.url is not None
        assert (await self.browse(pending.url, user_id)).status_code == 303


@contextlib.asynccontextmanager
async def serve(make_settings: Any, provider: AuthServer, **overrides: Any) -> AsyncIterator[Api]:
    overrides.setdefault("api", {"keys": [KEY], "verification": "none"})
    settings = make_settings(
        providers={
            "demo": {
                "authorize_url": provider.authorization_endpoint,
                "token_url": provider.token_endpoint,
                "userinfo_url": provider.userinfo_endpoint,
                "revocation_url": provider.revocation_endpoint,
                "issuer": provider.issuer,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }
        },
        secrets={"GMAIL_RELAY_KEY": "relay-secret-value"},
        **overrides,
    )
    toolkits = [api_toolkit.__name__, sample_toolkit.__name__]
    async with open_runtime(settings, public_url=PUBLIC_URL, toolkits=toolkits) as runtime:
        app = create_http_app(runtime)
        transport = httpx2.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {KEY}"}
        async with httpx2.AsyncClient(transport=transport, base_url=PUBLIC_URL, headers=headers) as http:
            yield Api(runtime, app, http, provider)


@pytest.fixture
async def api(make_settings: Any, auth_server: AuthServer, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Api]:
    monkeypatch.setenv("DEMO_USERINFO_URL", auth_server.userinfo_endpoint)
    async with serve(make_settings, auth_server) as served:
        yield served
    sample_toolkit.REJECTED_TOKENS = set()


def error_of(response: httpx2.Response) -> Error:
    assert response.headers["content-type"] == "application/json"
    error = Error.model_validate(response.json())
    assert error.name and error.message
    return error


# ---------------------------------------------------------------- who may call

ENDPOINTS = [
    pytest.param("GET", "/v1/health", None, id="health"),
    pytest.param("GET", "/v1/tools", None, id="tools-list"),
    pytest.param("GET", "/v1/tools/Gmail.ListEmails", None, id="tools-get"),
    pytest.param(
        "POST", "/v1/tools/authorize", {"tool_name": "Gmail.ListEmails", "user_id": "alice"}, id="tools-authorize"
    ),
    pytest.param(
        "POST",
        "/v1/tools/execute",
        {"tool_name": "Gmail.Fail", "user_id": "alice", "input": {"kind": "crash"}},
        id="tools-execute",
    ),
    pytest.param(
        "POST",
        "/v1/auth/authorize",
        {"auth_requirement": {"provider_id": "demo"}, "user_id": "alice"},
        id="auth-authorize",
    ),
    pytest.param("GET", "/v1/auth/status?id=some-flow", None, id="auth-status"),
    pytest.param("POST", "/v1/auth/confirm_user", {"flow_id": "some-flow", "user_id": "alice"}, id="auth-confirm-user"),
    pytest.param("GET", "/v1/admin/user_connections", None, id="connections-list"),
    pytest.param("DELETE", "/v1/admin/user_connections/1", None, id="connections-delete"),
]


WRONG_KEYS = [None, "", "Bearer", "Bearer wrong", "wrong", f"Basic {KEY}", f"Bearer {KEY}x", f"Bearer {KEY[:-1]}"]


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
async def test_every_endpoint_refuses_a_missing_or_wrong_key(api: Api, method: str, path: str, body: Any) -> None:
    for authorization in WRONG_KEYS:
        request = api.http.build_request(method, path, json=body)
        del request.headers["authorization"]
        if authorization is not None:
            request.headers["authorization"] = authorization
        response = await api.http.send(request)
        assert response.status_code == 401, authorization
        assert error_of(response).name == "unauthorized"
        assert KEY not in response.text


@pytest.mark.parametrize("authorization", [f"Bearer {KEY}", f"bearer {KEY}", KEY], ids=["bearer", "lowercase", "bare"])
async def test_the_key_is_taken_as_a_bearer_token_or_bare_as_arcadepy_sends_it(api: Api, authorization: str) -> None:
    response = await api.http.get("/v1/health", headers={"Authorization": authorization})
    assert response.status_code == 200 and response.json() == {"healthy": True}


async def test_without_configured_keys_the_api_refuses_everyone_and_says_how_to_turn_it_on(
    make_settings: Any, auth_server: AuthServer
) -> None:
    async with serve(make_settings, auth_server, api={"keys": []}) as api:
        response = await api.get("/health")
    assert response.status_code == 401 and "[api] keys" in error_of(response).message


# ---------------------------------------------------------------- bad requests

BAD_BODIES = [
    pytest.param("/tools/authorize", b"{", "invalid_json", id="authorize-broken-json"),
    pytest.param("/tools/authorize", b"", "invalid_json", id="authorize-empty"),
    pytest.param("/tools/authorize", b"[]", "invalid_request", id="authorize-array"),
    pytest.param("/tools/authorize", {"user_id": "alice"}, "invalid_request", id="authorize-no-tool"),
    pytest.param("/tools/authorize", {"tool_name": "Gmail.ListEmails"}, "invalid_request", id="authorize-no-user"),
    pytest.param(
        "/tools/authorize", {"tool_name": 5, "user_id": "alice"}, "invalid_request", id="authorize-tool-number"
    ),
    pytest.param(
        "/tools/authorize",
        {"tool_name": "Gmail.ListEmails", "user_id": ""},
        "invalid_request",
        id="authorize-empty-user",
    ),
    pytest.param(
        "/tools/authorize",
        {"tool_name": "Gmail.ListEmails", "user_id": "a\r\nb"},
        "invalid_request",
        id="authorize-crlf-user",
    ),
    pytest.param(
        "/tools/authorize",
        {"tool_name": "Gmail.ListEmails", "user_id": "u" * 256},
        "invalid_request",
        id="authorize-huge-user",
    ),
    pytest.param("/tools/execute", b"not json", "invalid_json", id="execute-not-json"),
    pytest.param(
        "/tools/execute",
        {"tool_name": "Gmail.SendEmail", "user_id": "alice", "input": [1, 2]},
        "invalid_request",
        id="execute-input-array",
    ),
    pytest.param(
        "/tools/execute",
        {"tool_name": "Gmail.SendEmail", "user_id": ["alice"]},
        "invalid_request",
        id="execute-user-list",
    ),
    pytest.param("/tools/execute", {"user_id": "alice"}, "invalid_request", id="execute-no-tool"),
    pytest.param("/auth/authorize", {"user_id": "alice"}, "invalid_request", id="auth-no-requirement"),
    pytest.param(
        "/auth/authorize", {"auth_requirement": {}, "user_id": "alice"}, "invalid_request", id="auth-no-provider"
    ),
    pytest.param(
        "/auth/authorize",
        {"auth_requirement": {"provider_id": "demo", "oauth2": {"scopes": "profile"}}, "user_id": "alice"},
        "invalid_request",
        id="auth-scopes-string",
    ),
    pytest.param(
        "/auth/authorize",
        {"auth_requirement": {"provider_id": "demo", "oauth2": {"scopes": ["a b"]}}, "user_id": "alice"},
        "invalid_request",
        id="auth-scope-with-space",
    ),
    pytest.param(
        "/auth/authorize", {"auth_requirement": {"provider_id": "demo"}}, "invalid_request", id="auth-no-user"
    ),
    pytest.param("/auth/confirm_user", {"flow_id": "x"}, "invalid_request", id="confirm-no-user"),
    pytest.param("/auth/confirm_user", {"user_id": "alice"}, "invalid_request", id="confirm-no-flow"),
    pytest.param("/auth/confirm_user", b"{'flow_id': 1}", "invalid_json", id="confirm-not-json"),
]


@pytest.mark.parametrize("path, body, name", BAD_BODIES)
async def test_bad_bodies_are_400_in_arcades_error_shape(api: Api, path: str, body: Any, name: str) -> None:
    response = await api.post(path, body)
    assert response.status_code == 400
    assert error_of(response).name == name


BAD_QUERIES = [
    pytest.param("/auth/status", {}, id="status-no-id"),
    pytest.param("/auth/status", {"id": ""}, id="status-empty-id"),
    pytest.param("/auth/status", {"id": "x" * 65}, id="status-huge-id"),
    pytest.param("/auth/status", {"id": "x", "wait": "soon"}, id="status-wait-word"),
    pytest.param("/auth/status", {"id": "x", "wait": "-1"}, id="status-wait-negative"),
    pytest.param("/auth/status", {"id": "x", "wait": "1.5"}, id="status-wait-fraction"),
    pytest.param("/tools", {"limit": "0"}, id="tools-limit-0"),
    pytest.param("/tools", {"limit": "101"}, id="tools-limit-101"),
    pytest.param("/tools", {"limit": "ten"}, id="tools-limit-word"),
    pytest.param("/tools", {"offset": "-1"}, id="tools-offset-negative"),
    pytest.param("/tools/Gmail.ListEmails", {"user_id": ""}, id="tool-empty-user"),
]


@pytest.mark.parametrize("path, params", BAD_QUERIES)
async def test_bad_queries_are_400_in_arcades_error_shape(api: Api, path: str, params: dict[str, str]) -> None:
    response = await api.get(path, **params)
    assert response.status_code == 400
    assert error_of(response).name == "invalid_request"


async def test_a_body_over_the_limit_is_413(api: Api) -> None:
    body = b'{"tool_name": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = await api.post("/tools/authorize", body)
    assert response.status_code == 413 and error_of(response).name == "request_too_large"


async def test_unknown_tools_providers_flows_paths_and_methods_are_4xx_in_arcades_shape(api: Api) -> None:
    cases = [
        (await api.get("/tools/Gmail.Nope"), 404, "not_found"),
        (await api.post("/tools/authorize", {"tool_name": "Nope.Nope", "user_id": "alice"}), 404, "not_found"),
        (await api.post("/tools/execute", {"tool_name": "Nope_Nope", "user_id": "alice"}), 404, "not_found"),
        (
            await api.post("/auth/authorize", {"auth_requirement": {"provider_id": "nope"}, "user_id": "alice"}),
            404,
            "not_found",
        ),
        (
            await api.post("/auth/authorize", {"auth_requirement": {"provider_id": "google"}, "user_id": "alice"}),
            400,
            "provider_not_configured",
        ),
        (await api.get("/auth/status", id="no-such-flow"), 404, "not_found"),
        (
            await api.post("/auth/confirm_user", {"flow_id": "no-such-flow", "user_id": "alice"}),
            400,
            "flow_unavailable",
        ),
        (await api.get("/nope"), 404, "not_found"),
        (await api.http.get("/v1/tools/execute"), 404, "not_found"),  # a GET there asks for a tool named "execute"
        (await api.http.delete("/v1/tools"), 405, "method_not_allowed"),
        (await api.http.get("/v1/auth/confirm_user"), 405, "method_not_allowed"),
    ]
    for response, status, name in cases:
        assert (response.status_code, error_of(response).name) == (status, name), response.request.url


async def test_unsupported_options_are_refused_rather_than_ignored(api: Api) -> None:
    scheduled = await api.post(
        "/tools/execute", {"tool_name": "Gmail.SendEmail", "user_id": "alice", "run_at": "2030-01-01T00:00:00"}
    )
    redirected = await api.post(
        "/tools/authorize",
        {"tool_name": "Gmail.ListEmails", "user_id": "alice", "next_uri": "https://app.example/back"},
    )
    assert scheduled.status_code == 400 and error_of(scheduled).name == "not_supported"
    assert redirected.status_code == 400 and error_of(redirected).name == "not_supported"


async def test_refusals_never_echo_what_was_sent(api: Api) -> None:
    responses = [
        await api.get(f"/tools/Gmail.{CANARY}"),
        await api.post("/tools/execute", {"tool_name": CANARY, "user_id": "alice"}),
        await api.post("/auth/authorize", {"auth_requirement": {"provider_id": CANARY}, "user_id": "alice"}),
        await api.post(
            "/auth/authorize",
            {"auth_requirement": {"provider_id": "demo", "oauth2": {"scopes": [f"{CANARY} x"]}}, "user_id": "alice"},
        ),
        await api.get("/auth/status", id=CANARY),
        await api.get("/auth/status", id="x", wait=CANARY),
        await api.post("/auth/confirm_user", {"flow_id": CANARY, "user_id": "alice"}),
        await api.post("/tools/authorize", {"tool_name": "Gmail.ListEmails", "user_id": f"{CANARY}\x00"}),
        await api.post(
            "/tools/execute",
            {"tool_name": "Gmail.SendEmail", "user_id": "alice", "input": {"recipient": [CANARY], "subject": "hi"}},
        ),
    ]
    for response in responses:
        assert response.status_code < 500 and CANARY not in response.text, response.request.url


# ---------------------------------------------------------------- tool definitions


async def test_dot_and_underscore_name_the_same_tool(api: Api) -> None:
    dotted, underscored = await api.tool("Gmail.ListEmails"), await api.tool("Gmail_ListEmails")
    assert dotted == underscored and dotted.qualified_name == "Gmail.ListEmails" and dotted.name == "ListEmails"
    first, second = await api.authorize(tool="Gmail.ListEmails"), await api.authorize(tool="Gmail_ListEmails")
    assert first.id == second.id  # one pending flow for the user, whichever spelling asked
    assert (await api.execute("Gmail_SendEmail", recipient="a@example.test", subject="hi")).success


async def test_definitions_describe_inputs_and_output_in_arcades_value_types(api: Api) -> None:
    send = await api.tool("Gmail.SendEmail")
    assert send.toolkit.name == "Gmail" and send.fully_qualified_name == "Gmail.SendEmail"
    assert send.description == "Pretend to send an email; returns what would be sent."
    parameters = {
        p.name: (p.value_schema.val_type, p.value_schema.inner_val_type, p.value_schema.enum, p.required, p.description)
        for p in send.input.parameters or []
    }
    assert parameters == {
        "recipient": ("string", None, None, True, "Who receives the email"),
        "subject": ("string", None, None, True, None),
        "body": ("string", None, None, False, None),
        "cc": ("array", "string", None, False, "Who else receives a copy"),
        "priority": ("string", None, ["low", "normal", "high"], False, None),
        "importance": ("number", None, None, False, None),
        "urgent": ("boolean", None, None, False, None),
        "headers": ("json", None, None, False, None),
    }
    assert send.output is not None and send.output.value_schema is not None
    assert send.output.value_schema.val_type == "json"
    emails = await api.tool("Gmail.ListEmails")
    assert emails.output is not None and emails.output.value_schema is not None
    assert (emails.output.value_schema.val_type, emails.output.value_schema.inner_val_type) == ("array", "json")
    (n_emails,) = emails.input.parameters or []
    assert (n_emails.name, n_emails.value_schema.val_type, n_emails.required) == ("n_emails", "integer", False)


async def test_tools_page_by_offset_and_filter_by_toolkit(api: Api) -> None:
    every = [d.api_name for d in api.runtime.catalog]
    seen: list[str] = []
    offset = 0
    while True:
        page = (await api.get("/tools", limit="3", offset=str(offset))).json()
        assert (page["limit"], page["offset"], page["total_count"]) == (3, offset, len(every))
        assert page["page_count"] == len(page["items"]) <= 3
        seen += [item["qualified_name"] for item in page["items"]]
        offset += page["page_count"]
        if offset >= page["total_count"]:
            break
    assert seen == every

    gmail = (await api.get("/tools", toolkit="gmail")).json()
    assert gmail["total_count"] == 4 and {item["toolkit"]["name"] for item in gmail["items"]} == {"Gmail"}
    assert (await api.get("/tools", toolkit="Nope")).json()["total_count"] == 0
    assert (await api.get("/tools", offset="1000")).json()["items"] == []


async def test_the_official_async_client_pages_through_every_tool(api: Api) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url=PUBLIC_URL) as http:
        client = AsyncArcade(api_key=KEY, base_url=PUBLIC_URL, http_client=http)
        names = [tool.qualified_name async for tool in client.tools.list(limit=2)]
        gmail = [tool.name async for tool in client.tools.list(toolkit="Gmail", limit=100)]
    assert names == [d.api_name for d in api.runtime.catalog]
    assert sorted(gmail) == ["Fail", "ListEmails", "RelayStatus", "SendEmail"]


async def test_requirements_show_their_status_for_the_named_user(api: Api) -> None:
    anyone = (await api.tool("Gmail.ListEmails")).requirements
    assert anyone is not None and anyone.authorization is not None
    authorization = anyone.authorization
    assert (authorization.provider_id, authorization.status, authorization.token_status) == ("demo", "active", None)
    assert authorization.oauth2 is not None and authorization.oauth2.scopes == ["profile"]
    assert anyone.met is None  # it depends on the user

    def token_status(definition: ToolDefinition) -> tuple[str | None, bool | None]:
        assert definition.requirements is not None and definition.requirements.authorization is not None
        return definition.requirements.authorization.token_status, definition.requirements.met

    assert token_status(await api.tool("Gmail.ListEmails", user_id="alice")) == ("not_started", False)
    await api.connect("alice")
    assert token_status(await api.tool("Gmail.ListEmails", user_id="alice")) == ("completed", True)
    assert token_status(await api.tool("Gmail.ListEmails", user_id="bob")) == ("not_started", False)
    # more scopes than alice granted: not covered yet
    assert token_status(await api.tool("Sample.NeedsMoreScopes", user_id="alice")) == ("not_started", False)

    listed = (await api.get("/tools", user_id="alice", toolkit="Sample")).json()["items"]
    statuses = {
        t["name"]: t["requirements"]["authorization"]["token_status"]
        for t in listed
        if t["requirements"]["authorization"]
    }
    assert statuses == {
        "ShowToken": "completed",
        "UseToken": "completed",
        "NeedsMoreScopes": "not_started",
        "GoogleProfile": None,
    }

    google = (await api.tool("Sample.GoogleProfile", user_id="alice")).requirements
    assert google is not None and google.authorization is not None
    assert google.authorization.status == "inactive" and google.authorization.status_reason and google.met is False

    relay = (await api.tool("Gmail.RelayStatus")).requirements
    missing = (await api.tool("Sample.ReadSecret")).requirements
    assert relay is not None and relay.secrets is not None and missing is not None and missing.secrets is not None
    assert [(s.key, s.met) for s in relay.secrets] == [("GMAIL_RELAY_KEY", True)] and relay.met is True
    assert [(s.key, s.met) for s in missing.secrets] == [("SAMPLE_KEY", False)] and missing.met is False
    assert "relay-secret-value" not in (await api.get("/tools", toolkit="Gmail")).text


# ---------------------------------------------------------------- authorization


async def test_authorize_consent_and_status(api: Api) -> None:
    pending = await api.authorize("alice")
    assert pending.status == "pending" and pending.url == f"{PUBLIC_URL}/connect/{pending.id}"
    assert (pending.user_id, pending.provider_id, pending.scopes) == ("alice", "demo", ["profile"])
    assert (await api.status(pending.id or "")).status == "pending"

    assert pending.url is not None
    landing = await api.browse(pending.url, "alice")
    assert landing.status_code == 303 and landing.headers["location"] == f"/connect/{pending.id}/done"
    done = await api.status(pending.id or "")
    assert done.status == "completed" and done.url is None and done.context is None

    again = await api.authorize("alice")
    assert (again.status, again.id, again.provider_id) == ("completed", ALREADY_COMPLETED_ID, "demo")
    assert (await api.status(ALREADY_COMPLETED_ID)).status == "completed"
    assert (await api.status(pending.id or "", wait=600)).status == "completed"  # over 59 s: capped, not refused
    nothing_needed = await api.authorize("alice", tool="Gmail.SendEmail")
    assert nothing_needed.status == "completed" and nothing_needed.id


async def test_auth_authorize_takes_a_provider_and_scopes_without_a_tool(api: Api) -> None:
    body = {"auth_requirement": {"provider_id": "demo", "oauth2": {"scopes": ["profile", "email"]}}, "user_id": "alice"}
    by_provider = AuthorizationResponse.model_validate((await api.post("/auth/authorize", body)).json())
    body["auth_requirement"] = {"id": "demo", "oauth2": {"scopes": ["profile", "email"]}}
    by_id = AuthorizationResponse.model_validate((await api.post("/auth/authorize", body)).json())
    assert by_provider.status == by_id.status == "pending" and by_provider.id == by_id.id
    assert set(by_provider.scopes or []) == {"profile", "email"}

    assert by_provider.url is not None
    await api.browse(by_provider.url, "alice")
    # the connection serves every tool its scopes cover
    assert (await api.execute("Gmail.ListEmails", n_emails=1)).success
    assert (await api.execute("Sample.NeedsMoreScopes")).success


async def test_status_long_poll_returns_when_the_callback_lands(api: Api) -> None:
    pending = await api.authorize("alice")
    assert pending.url is not None and pending.id is not None
    callback = await api.callback_url(pending.url, "alice")
    answer, landing = await woken_by(  # woken by the callback, long before the 30 s wait
        api.runtime.service.flows,
        pending.id or "",
        lambda: api.status(pending.id or "", wait=30),
        lambda: api.land(callback),
    )
    assert answer.status == "completed" and landing.status_code == 303


async def test_status_long_poll_answers_pending_when_the_wait_is_over(api: Api) -> None:
    pending = await api.authorize("alice")
    answers: list[AuthorizationResponse] = []

    async def long_poll() -> None:
        answers.append(await api.status(pending.id or "", wait=1))

    async with anyio.create_task_group() as tg:
        tg.start_soon(long_poll)
        await parked(api.runtime.service.flows, pending.id or "")  # it waits on the flow, not answering at once
    (answer,) = answers
    assert answer.status == "pending" and answer.url == pending.url


async def test_a_declined_consent_answers_failed_and_a_later_poll_is_held(api: Api) -> None:
    pending = await api.authorize("alice")
    assert pending.url is not None
    declined = await api.callback_url(pending.url, "alice", allow=False)
    answer, landing = await woken_by(
        api.runtime.service.flows,
        pending.id or "",
        lambda: api.status(pending.id or "", wait=30),
        lambda: api.land(declined),
    )
    assert answer.status == "failed" and landing.status_code == 400
    assert (await api.status(pending.id or "")).status == "failed"
    # wait_for_completion asks again until "completed": an already failed flow is answered after `wait`
    started = time.monotonic()
    assert (await api.status(pending.id or "", wait=1)).status == "failed"
    assert time.monotonic() - started >= 0.9


async def test_custom_verification_binds_only_for_the_confirmed_user(
    make_settings: Any, auth_server: AuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_USERINFO_URL", auth_server.userinfo_endpoint)
    verifier = "https://app.example/verify"
    async with serve(
        make_settings, auth_server, api={"keys": [KEY], "verification": "custom", "verifier_url": verifier}
    ) as api:
        first = await api.authorize("alice")
        assert first.url is not None
        landing = await api.browse(first.url, "mallory")  # someone else opened alice's link
        assert landing.headers["location"].startswith(f"{verifier}?flow_id=")
        confirmation = landing.headers["location"].removeprefix(f"{verifier}?flow_id=")
        assert confirmation != first.id  # a one-time value of its own, never the authorization id
        held = await api.status(first.id or "")
        assert held.status == "pending" and held.url is None  # consented, not yet verified
        by_id = await api.post("/auth/confirm_user", {"flow_id": first.id, "user_id": "alice"})
        assert by_id.status_code == 400 and error_of(by_id).name == "flow_unavailable"  # the id confirms nothing
        mismatch = await api.post("/auth/confirm_user", {"flow_id": confirmation, "user_id": "mallory"})
        assert mismatch.status_code == 403 and error_of(mismatch).name == "user_mismatch"
        assert (await api.status(first.id or "")).status == "failed"
        assert await api.runtime.vault.get_connection("alice", "demo") is None
        assert await api.runtime.vault.get_connection("mallory", "demo") is None

        second = await api.authorize("alice")
        assert second.id != first.id and second.url is not None
        landing = await api.browse(second.url, "alice")
        confirmation = landing.headers["location"].removeprefix(f"{verifier}?flow_id=")
        confirmed = await api.post("/auth/confirm_user", {"flow_id": confirmation, "user_id": "alice"})
        assert confirmed.status_code == 200
        answer = ConfirmUserResponse.model_validate(confirmed.json())
        assert answer.auth_id == second.id and answer.next_uri is not None
        assert answer.next_uri.startswith(f"{PUBLIC_URL}/oauth/confirmed?confirmation=")
        assert (await api.status(second.id or "")).status == "pending"  # confirmed, the browser not back yet
        async with api.browser() as browser:  # the browser that consented (it holds the link's cookie)
            back = await browser.get(answer.next_uri)
        assert back.status_code == 303 and back.headers["location"] == f"{PUBLIC_URL}/connect/{second.id}/done"
        assert (await api.status(second.id or "")).status == "completed"
        emails = await api.execute("Gmail.ListEmails", n_emails=1)
        assert emails.output is not None and emails.output.value == [
            {"id": "alice-0", "to": "alice@example.test", "subject": "Message 0 for alice"}
        ]


# ---------------------------------------------------------------- execution


async def test_execute_answers_the_authorization_needed_then_runs_with_the_users_token(api: Api) -> None:
    first = await api.execute("Gmail.ListEmails", n_emails=2)
    assert not first.success and first.status == "failed" and first.output is not None
    assert first.output.error is not None and first.output.error.kind == "TOOL_REQUIREMENTS_NOT_MET"
    assert first.output.error.can_retry
    authorization = first.output.authorization
    assert authorization is not None and authorization.status == "pending" and authorization.url

    await api.browse(authorization.url, "alice")
    second = await api.execute("Gmail.ListEmails", n_emails=2)
    assert second.success and second.status == "success" and second.output is not None
    assert second.output.error is None and second.output.authorization is None
    assert [email["to"] for email in second.output.value] == ["alice@example.test"] * 2  # type: ignore[union-attr]
    assert second.execution_id and second.finished_at and second.duration is not None


EXECUTE_FAILURES = [
    pytest.param(
        {"kind": "rate_limit", "retry_after": 1.5}, "UPSTREAM_RUNTIME_RATE_LIMIT", True, 1500, 429, id="rate-limit"
    ),
    pytest.param(
        {"kind": "rate_limit"}, "UPSTREAM_RUNTIME_RATE_LIMIT", True, None, 429, id="rate-limit-no-retry-after"
    ),
    pytest.param({"kind": "server_error"}, "UPSTREAM_RUNTIME_SERVER_ERROR", True, None, 503, id="upstream-5xx"),
    pytest.param({"kind": "not_found"}, "UPSTREAM_RUNTIME_NOT_FOUND", False, None, 404, id="upstream-404"),
    pytest.param({"kind": "retry", "retry_after": 0.25}, "TOOL_RUNTIME_RETRY", True, 250, None, id="retryable"),
    pytest.param({"kind": "expected"}, "TOOL_RUNTIME_FATAL", False, None, None, id="expected-failure"),
    pytest.param({"kind": "crash"}, "TOOL_RUNTIME_FATAL", False, None, None, id="crash"),
    pytest.param({"kind": "unserializable"}, "TOOL_RUNTIME_BAD_OUTPUT_VALUE", False, None, None, id="bad-output"),
    pytest.param({"kind": "explode"}, "TOOL_RUNTIME_BAD_INPUT_VALUE", False, None, None, id="bad-enum"),
    pytest.param({}, "TOOL_RUNTIME_BAD_INPUT_VALUE", False, None, None, id="missing-argument"),
    pytest.param(
        {"kind": "retry", "retry_after": "later"}, "TOOL_RUNTIME_BAD_INPUT_VALUE", False, None, None, id="wrong-type"
    ),
]


@pytest.mark.parametrize("input, kind, can_retry, retry_after_ms, status_code", EXECUTE_FAILURES)
async def test_execute_failures_answer_arcades_error_kinds(
    api: Api, input: dict[str, Any], kind: str, can_retry: bool, retry_after_ms: int | None, status_code: int | None
) -> None:
    response = await api.execute("Gmail.Fail", **input)
    assert not response.success and response.output is not None and response.output.error is not None
    error = response.output.error
    assert (error.kind, error.can_retry, error.retry_after_ms, error.status_code) == (
        kind,
        can_retry,
        retry_after_ms,
        status_code,
    )
    assert error.message and error.stacktrace is None and "secret-path" not in response.model_dump_json()


async def test_execute_checks_secrets_and_providers_before_running(api: Api) -> None:
    relay = await api.execute("Gmail.RelayStatus")
    assert relay.success and relay.output is not None and relay.output.value == len("relay-secret-value")
    for tool, named in [("Sample.ReadSecret", "SAMPLE_KEY"), ("Sample.GoogleProfile", "google")]:
        refused = await api.execute(tool)
        assert refused.output is not None and refused.output.error is not None
        assert refused.output.error.kind == "TOOL_REQUIREMENTS_NOT_MET" and named in refused.output.error.message


async def test_upstream_401_refreshes_once_then_answers_the_authorization_again(api: Api) -> None:
    await api.connect("alice", tool="Sample.UseToken")
    stored = await api.runtime.vault.get_connection("alice", "demo")
    assert stored is not None
    sample_toolkit.REJECTED_TOKENS.add(stored.access_token)
    retried = await api.execute("Sample.UseToken")
    assert retried.success and retried.output is not None and retried.output.value not in ("", stored.access_token)

    class RejectAll(set[str]):
        def __contains__(self, item: object) -> bool:
            return True

    sample_toolkit.REJECTED_TOKENS = RejectAll()
    refused = await api.execute("Sample.UseToken")
    assert not refused.success and refused.output is not None and refused.output.error is not None
    assert refused.output.error.kind == "UPSTREAM_RUNTIME_AUTH_ERROR" and refused.output.error.can_retry
    assert refused.output.authorization is not None and refused.output.authorization.status == "pending"
    assert refused.output.authorization.url


# ---------------------------------------------------------------- one service behind both front doors


async def test_a_connection_made_through_the_api_serves_mcp_and_the_other_way_round(api: Api) -> None:
    await api.connect("alice")  # the MCP side's local user is alice too
    async with Client(api.runtime.mcp) as client:
        through_mcp = await client.call_tool("Gmail_ListEmails", {"n_emails": 1})
        assert not through_mcp.is_error

        first = await client.call_tool("Sample_NeedsMoreScopes", {})
        assert first.is_error and first.meta is not None
    await api.browse(first.meta["url"], "alice")
    definition = await api.tool("Sample.NeedsMoreScopes", user_id="alice")
    assert definition.requirements is not None and definition.requirements.met is True
    assert (await api.execute("Sample.NeedsMoreScopes")).success


async def test_no_answer_carries_the_users_tokens(api: Api) -> None:
    pending = await api.authorize("alice")
    assert pending.url is not None
    await api.browse(pending.url, "alice")
    stored = await api.runtime.vault.get_connection("alice", "demo")
    assert stored is not None and stored.refresh_token
    texts = [
        (await api.post("/tools/authorize", {"tool_name": "Gmail.ListEmails", "user_id": "alice"})).text,
        (await api.post("/auth/authorize", {"auth_requirement": {"provider_id": "demo"}, "user_id": "alice"})).text,
        (await api.get("/auth/status", id=pending.id or "", wait="1")).text,
        (await api.get("/tools", user_id="alice")).text,
        (await api.post("/tools/execute", {"tool_name": "Gmail.ListEmails", "user_id": "alice"})).text,
    ]
    for text in texts:
        assert stored.access_token not in text and stored.refresh_token not in text


# ---------------------------------------------------------------- connections, as arcadepy's admin client sees them


async def test_admin_lists_and_deletes_connections_without_tokens(api: Api) -> None:
    from arcadepy.types.admin import UserConnectionResponse

    await api.connect("alice")
    await api.connect("bob")
    api.provider.reset_stats()
    listed = await api.get("/admin/user_connections", **{"user[id]": "bob", "provider[id]": "demo"})
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total_count"] == 1 and body["page_count"] == 1
    (item,) = [UserConnectionResponse.model_validate(i) for i in body["items"]]
    assert item.user_id == "bob" and item.provider_id == "demo" and item.connection_status == "active"
    assert item.provider_user_info == {**item.provider_user_info, "sub": "bob"}  # type: ignore[dict-item]
    stored = await api.runtime.vault.get_connection("bob", "demo")
    assert stored is not None and stored.access_token not in listed.text and stored.refresh_token not in listed.text

    everyone = (await api.get("/admin/user_connections", limit="1", offset="1")).json()
    assert everyone["total_count"] == 2 and [i["user_id"] for i in everyone["items"]] == ["bob"]

    deleted = await api.http.delete(f"/v1/admin/user_connections/{item.id}")
    assert deleted.status_code == 204
    assert await api.runtime.vault.get_connection("bob", "demo") is None
    assert await api.runtime.vault.get_connection("alice", "demo") is not None
    assert api.provider.stats()["revocations"] == 1  # revoked at the provider too
    assert error_of(await api.http.delete(f"/v1/admin/user_connections/{item.id}")).name == "not_found"
    assert error_of(await api.http.delete("/v1/admin/user_connections/not-a-number")).name == "not_found"
    assert error_of(await api.get("/admin/user_connections", limit="0")).name == "invalid_request"


async def test_every_integer_parameter_is_bounded_so_huge_values_are_400_not_500(api: Api) -> None:
    huge = "9" * 40
    for path, params in [
        ("/admin/user_connections", {"offset": huge}),
        ("/admin/user_connections", {"offset": "1000001"}),
        ("/admin/user_connections", {"limit": huge}),
        ("/tools", {"offset": huge}),
        ("/auth/status", {"id": "x", "wait": huge}),
    ]:
        response = await api.get(path, **params)
        assert response.status_code == 400, (path, params, response.text)
        assert error_of(response).name == "invalid_request" and huge not in response.text
    gone = await api.http.delete(f"/v1/admin/user_connections/{huge}")
    assert gone.status_code == 404
    within = await api.get("/admin/user_connections", offset="1000000")
    assert within.status_code == 200 and within.json()["items"] == []
