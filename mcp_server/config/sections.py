"""The tables of the configuration (`[providers.<name>]`, `[mcp_auth]`, `[api]`, `[front_door]`, `[audit]`,
`[metrics]`, `[webhooks]`, `[approval]`): one model each, validated on its own; `Settings` holds them."""

from __future__ import annotations

import base64
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

__all__ = [
    "WEBHOOK_EVENTS",
    "ApiSettings",
    "ApprovalMode",
    "ApprovalSettings",
    "AuditSettings",
    "FrontDoorSettings",
    "McpAuthSettings",
    "MetricsSettings",
    "ProviderSettings",
    "WebhookSettings",
]


class ProviderSettings(BaseModel):
    """One OAuth 2.0 app: a catalogued provider needs only `client_id` and `client_secret`."""

    model_config = ConfigDict(extra="forbid")

    type: str | None = None  # catalogue entry to start from; default: the provider id if catalogued
    name: str | None = None  # shown to people ("Sign in to <name>")
    authorize_url: str | None = None
    token_url: str | None = None
    refresh_url: str | None = None  # where refresh tokens go, when not token_url
    userinfo_url: str | None = None
    revocation_url: str | None = None
    issuer: str | None = None  # checked against the callback's `iss` (RFC 9207) when the provider sends one
    discover: bool = False  # fill missing endpoints from <issuer>/.well-known/openid-configuration at start-up
    client_id: str | None = None
    client_secret: SecretStr | None = None
    scopes: list[str] = Field(default_factory=list)  # always requested, besides what tools need
    pkce: bool | None = None
    scope_delimiter: str | None = None
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post", "none"] | None = None
    authorize_params: dict[str, str] = Field(default_factory=dict)
    scope_param: str | None = None
    token_response_key: str | None = None
    userinfo_method: Literal["GET", "POST"] | None = None
    userinfo_headers: dict[str, str] = Field(default_factory=dict)
    user_id_field: str | None = None
    revocation: Literal["rfc7009", "github_grant", "none"] | None = None
    refresh: Literal["rotating", "reusable", "none"] | None = None
    error_style: Literal["http", "ok_flag"] | None = None
    token_extras: list[str] = Field(default_factory=list)  # token-response fields tools may read


class McpAuthSettings(BaseModel):
    """Who calls the MCP endpoints over HTTP. Nothing configured: loopback only, as the local user."""

    model_config = ConfigDict(extra="forbid")

    tokens: dict[str, str] = Field(default_factory=dict)  # static bearer token -> user id
    jwt_issuer: str | None = None
    jwks_url: str | None = None
    audience: str | None = None  # default: <public_url>/mcp

    @property
    def configured(self) -> bool:
        return bool(self.tokens) or self.jwt_issuer is not None


class ApiSettings(BaseModel):
    """The Arcade-compatible `/v1` API."""

    model_config = ConfigDict(extra="forbid")

    keys: list[SecretStr] = Field(default_factory=list)
    # who finished a flow must be its user: "custom" (your app's verifier_url confirms), "idp" (the browser signs
    # in at [mcp_auth] jwt_issuer), or "none" (development only). Required when several users can start flows.
    verification: Literal["none", "custom", "idp"] | None = None
    verifier_url: str | None = None  # custom: the browser goes here with ?flow_id=<one-time value> after consent
    idp_client_id: str | None = None  # idp: authmcp's own client at the issuer (redirect <public_url>/oauth/verify)
    idp_client_secret: SecretStr | None = None
    idp_scopes: list[str] = Field(default_factory=lambda: ["openid"])

    @model_validator(mode="after")
    def _modes_need_their_settings(self) -> ApiSettings:
        if self.verification == "custom" and not self.verifier_url:
            raise ValueError('verification = "custom" needs verifier_url, the page of your app that confirms the user')
        if self.verification == "idp" and not (self.idp_client_id and self.idp_client_secret):
            raise ValueError(
                'verification = "idp" needs idp_client_id and idp_client_secret, a client of authmcp at '
                "[mcp_auth] jwt_issuer whose redirect URI is <public_url>/oauth/verify"
            )
        return self


class FrontDoorSettings(BaseModel):
    """authmcp as the OAuth 2.1 authorization server of its MCP clients (mcp_server/authorization/front_door.py)."""

    model_config = ConfigDict(extra="forbid")

    sign_in: str  # the [providers.<name>] people sign in with
    user_claim: Literal["sub", "email"] = "sub"  # which claim becomes the authmcp user id
    allowed_domains: list[str] = Field(default_factory=list)  # only emails in these domains may sign in
    access_token_ttl: int = Field(default=3600, ge=60, le=86400)  # seconds


class AuditSettings(BaseModel):
    """The audit trail in the vault (see mcp_server/observability/audit.py)."""

    model_config = ConfigDict(extra="forbid")

    retention_days: float = Field(default=90.0, ge=1, le=3650)  # older rows are purged
    queue_size: int = Field(default=10_000, ge=100, le=1_000_000)  # events waiting to be written; past it, dropped


class MetricsSettings(BaseModel):
    """Prometheus metrics (see mcp_server/observability/metrics.py): off unless a port or a token is set."""

    model_config = ConfigDict(extra="forbid")

    port: int | None = Field(default=None, ge=1, le=65535)  # a listener of its own serving /metrics
    host: str = "127.0.0.1"  # where that listener binds
    token: SecretStr | None = None  # or: /metrics on the main app, for `Authorization: Bearer <token>`

    @property
    def enabled(self) -> bool:
        return self.port is not None or self.token is not None


WEBHOOK_EVENTS = (
    "connection.needs_reauth",
    "connection.revoked",
    "authorization.completed",
    "authorization.failed",
    "approval.decided",
)


class WebhookSettings(BaseModel):
    """Events out, as Standard Webhooks (see mcp_server/observability/webhooks.py): off unless `urls` is set."""

    model_config = ConfigDict(extra="forbid")

    urls: list[str] = Field(default_factory=list)
    secret: SecretStr | None = None  # whsec_<base64>, as Standard Webhooks libraries expect
    events: list[str] = Field(default_factory=lambda: list(WEBHOOK_EVENTS))
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)  # the whole of one delivery attempt
    retry_seconds: float = Field(default=5.0, gt=0, le=3600)  # the first back-off; doubles up to an hour
    give_up_hours: float = Field(default=72.0, gt=0, le=24 * 30)

    @field_validator("urls")
    @classmethod
    def _check_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"each webhook URL must be an absolute http(s) URL, not {url[:60]!r}")
        return value

    @field_validator("events")
    @classmethod
    def _check_events(cls, value: list[str]) -> list[str]:
        unknown = [e for e in value if e not in WEBHOOK_EVENTS]
        if unknown:
            raise ValueError(f"unknown webhook event {unknown[0]!r}; choose among {', '.join(WEBHOOK_EVENTS)}")
        return value

    @model_validator(mode="after")
    def _urls_need_a_secret(self) -> WebhookSettings:
        if self.urls:
            if self.secret is None:
                raise ValueError('webhook urls need a signing secret: secret = "whsec_<base64 of 32 random bytes>"')
            self.signing_key()
        return self

    def signing_key(self) -> bytes:
        """The secret's bytes: `whsec_` then base64, as the Standard Webhooks libraries read it."""
        text = self.secret.get_secret_value() if self.secret is not None else ""
        try:
            key = base64.b64decode(text.removeprefix("whsec_"), validate=True)
        except ValueError:
            key = b""
        if not text.startswith("whsec_") or len(key) < 24:
            raise ValueError("the webhook secret must be whsec_ followed by at least 24 bytes in base64")
        return key


ApprovalMode = Literal["off", "destructive", "listed"]


class ApprovalSettings(BaseModel):
    """Asking the person before a tool acts (see mcp_server/calls/approval.py)."""

    model_config = ConfigDict(extra="forbid")

    policy: ApprovalMode = "off"  # destructive: tools not marked read-only or non-destructive; listed: `tools` only
    tools: list[str] = Field(default_factory=list)  # always asked for: "Gmail.SendEmail" (or Gmail_SendEmail)
    toolkits: dict[str, ApprovalMode] = Field(default_factory=dict)  # per toolkit: { Gmail = "destructive" }
    wait_seconds: float = Field(default=120.0, ge=5, le=600)  # how long a question in the client waits for an answer
