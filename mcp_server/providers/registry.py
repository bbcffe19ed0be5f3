"""The providers authmcp can authorize against: the catalogue file overlaid by `[providers.<id>]` settings."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, Literal

from mcp_server.config import ProviderSettings
from mcp_server.errors import ConfigError, ProviderNotConfigured

__all__ = ["Provider", "ProviderRegistry", "load_catalogue"]

AuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]
Revocation = Literal["rfc7009", "github_grant", "none"]
RefreshBehaviour = Literal["rotating", "reusable", "none"]
#: How a provider's API says a request failed: by the HTTP status alone, or also in HTTP 200 answers carrying
#: `{"ok": false, "error": "<code>"}` (Slack's Web API).
ErrorStyle = Literal["http", "ok_flag"]
#: Token-response fields that are tokens themselves: never kept as extras, which are stored unencrypted.
SECRET_FIELDS = frozenset({"access_token", "refresh_token", "id_token"})


@dataclass(frozen=True)
class Provider:
    """One OAuth 2.0 app, fully resolved."""

    id: str
    type: str
    name: str
    authorize_url: str | None
    token_url: str | None
    refresh_url: str | None = None  # where refresh tokens are used, when not the token endpoint (Figma)
    userinfo_url: str | None = None
    revocation_url: str | None = None
    issuer: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    scopes: tuple[str, ...] = ()
    pkce: bool = True
    scope_delimiter: str = " "
    token_endpoint_auth_method: AuthMethod = "client_secret_basic"
    authorize_params: Mapping[str, str] = field(default_factory=dict)
    scope_param: str = "scope"  # Slack asks for user-token scopes in `user_scope`
    token_response_key: str | None = None  # Slack nests the user's token under `authed_user`
    userinfo_method: Literal["GET", "POST"] = "GET"
    userinfo_headers: Mapping[str, str] = field(default_factory=dict)
    user_id_field: str = "sub"  # dotted path of the user's id in the userinfo answer
    revocation: Revocation = "rfc7009"  # how to revoke; "rfc7009" needs revocation_url
    refresh: RefreshBehaviour = "reusable"  # what the provider does with refresh tokens (documentation)
    discover: bool = False  # endpoints not given come from the issuer's metadata at start-up
    error_style: ErrorStyle = "http"
    token_extras: tuple[str, ...] = ()  # token-response fields kept with the connection for tools
    sends_iss: bool = False  # its metadata says authorization responses carry `iss` (RFC 9207): require it

    def missing_settings(self) -> list[str]:
        """Settings that must still be given before this provider can authorize anyone."""
        needed = ["client_id", "authorize_url", "token_url"]
        if self.token_endpoint_auth_method != "none":
            needed.append("client_secret")
        return [name for name in needed if not getattr(self, name)]

    def how_to_configure(self) -> str:
        missing = self.missing_settings()
        env = ", ".join(f"AUTHMCP_PROVIDERS__{self.id.upper().replace('-', '_')}__{m.upper()}" for m in missing)
        return (
            f"{self.name} is not configured on this server: set {', '.join(missing)} under "
            f"[providers.{self.id}] in the configuration file (or {env}) and restart authmcp."
        )


def load_catalogue() -> dict[str, dict[str, Any]]:
    text = resources.files("mcp_server.providers").joinpath("catalogue.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


class ProviderRegistry:
    """Resolves a provider id to a `Provider`: configured apps first, then catalogue entries by id."""

    def __init__(
        self, settings: Mapping[str, ProviderSettings], catalogue: Mapping[str, Mapping[str, Any]] | None = None
    ):
        self._catalogue = dict(load_catalogue() if catalogue is None else catalogue)
        self._providers: dict[str, Provider] = {}
        for provider_id, overrides in settings.items():
            self._providers[provider_id] = self._resolve(provider_id, overrides)
        for provider_id in self._catalogue:
            self._providers.setdefault(provider_id, self._resolve(provider_id, ProviderSettings()))

    @property
    def catalogue(self) -> Mapping[str, Mapping[str, Any]]:
        return self._catalogue

    def get(self, provider_id: str) -> Provider | None:
        return self._providers.get(provider_id)

    def configured(self, provider_id: str) -> Provider:
        """The provider with this id, ready to authorize.

        Raises:
            ProviderNotConfigured: Unknown here, or its OAuth app settings are missing.
        """
        provider = self._providers.get(provider_id)
        if provider is None:  # the catalog refuses such tools at load time
            raise ProviderNotConfigured(f"Provider {provider_id!r} is not known to this server.")
        if provider.missing_settings():
            raise ProviderNotConfigured(provider.how_to_configure())
        return provider

    async def discover(self, *, timeout: float) -> None:
        """Fill the endpoints of providers configured with `discover = true` from their issuer's metadata.

        Raises:
            ConfigError: The metadata cannot be fetched, or names another issuer (RFC 8414 §3.3).
        """
        for provider in [p for p in self._providers.values() if p.discover]:
            self._providers[provider.id] = await discover_endpoints(provider, timeout=timeout)

    def __iter__(self) -> Iterator[Provider]:
        return iter(self._providers.values())

    def _resolve(self, provider_id: str, overrides: ProviderSettings) -> Provider:
        provider_type = overrides.type or (provider_id if provider_id in self._catalogue else "oauth2")
        if provider_type != "oauth2" and provider_type not in self._catalogue:
            known = ", ".join(sorted(self._catalogue))
            raise ConfigError(
                f"[providers.{provider_id}] has type {provider_type!r}, which is not in the catalogue ({known}); "
                f"remove `type` and give authorize_url and token_url for a generic OAuth 2.0 provider."
            )
        base: dict[str, Any] = dict(self._catalogue.get(provider_type, {}))
        base.pop("docs", None)
        given = overrides.model_dump(exclude_none=True, exclude={"type", "client_secret"})
        if not given.get("scopes"):
            given.pop("scopes", None)
        for empty_by_default in ("authorize_params", "userinfo_headers", "token_extras"):
            if not given.get(empty_by_default):
                given.pop(empty_by_default, None)
        merged = {**base, **given}
        secret = overrides.client_secret.get_secret_value() if overrides.client_secret else None
        extras = tuple(merged.pop("token_extras", ()))
        if SECRET_FIELDS & set(extras):
            raise ConfigError(
                f"[providers.{provider_id}] token_extras names {', '.join(sorted(SECRET_FIELDS & set(extras)))}: "
                f"extras are stored unencrypted, so tokens cannot be among them; remove those names."
            )
        return Provider(
            id=provider_id,
            type=provider_type,
            name=merged.pop("name", provider_id),
            authorize_url=merged.pop("authorize_url", None),
            token_url=merged.pop("token_url", None),
            client_secret=secret,
            scopes=tuple(merged.pop("scopes", ())),
            authorize_params=dict(merged.pop("authorize_params", {})),
            userinfo_headers=dict(merged.pop("userinfo_headers", {})),
            token_extras=extras,
            **merged,
        )


_METADATA_PATHS = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")


async def discover_endpoints(provider: Provider, *, timeout: float) -> Provider:
    """`provider` with the endpoints it lacks taken from its issuer's OpenID / RFC 8414 metadata."""
    from mcp_server._http import deadline, httpx2, provider_client

    if not provider.issuer:
        raise ConfigError(f"[providers.{provider.id}] has discover = true but no issuer; give the issuer URL.")
    metadata: dict[str, Any] | None = None
    async with provider_client(timeout) as client:
        for path in _METADATA_PATHS:
            try:
                async with deadline(timeout):
                    response = await client.get(
                        provider.issuer.rstrip("/") + path, headers={"Accept": "application/json"}
                    )
                if response.status_code == 200:
                    metadata = response.json()
                    break
            except (httpx2.HTTPError, ValueError):
                continue
    if not isinstance(metadata, dict):
        raise ConfigError(
            f"Could not read the metadata of {provider.issuer} for [providers.{provider.id}]; check the issuer "
            f"URL, or give authorize_url and token_url and remove discover."
        )
    if metadata.get("issuer") != provider.issuer:  # RFC 8414 §3.3: exact match, or the metadata is not theirs
        raise ConfigError(
            f"The metadata at {provider.issuer} names the issuer {metadata.get('issuer')!r}; [providers.{provider.id}] "
            f"issuer must be exactly that."
        )
    methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    found: dict[str, Any] = {
        "authorize_url": provider.authorize_url or metadata.get("authorization_endpoint"),
        "token_url": provider.token_url or metadata.get("token_endpoint"),
        "userinfo_url": provider.userinfo_url or metadata.get("userinfo_endpoint"),
        "revocation_url": provider.revocation_url or metadata.get("revocation_endpoint"),
        "pkce": "S256" in (metadata.get("code_challenge_methods_supported") or ["S256"]),
        "sends_iss": metadata.get("authorization_response_iss_parameter_supported") is True,
        "token_endpoint_auth_method": (
            provider.token_endpoint_auth_method
            if provider.token_endpoint_auth_method in methods
            else next((m for m in ("client_secret_basic", "client_secret_post") if m in methods), "client_secret_basic")
        ),
    }
    return replace(provider, **found)
