"""The provider catalogue: every entry complete, well-formed, resolvable, and usable to start an authorization."""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any, get_args, get_type_hints
from urllib.parse import parse_qs, urlsplit

import pytest

import mcp_server.auth
import mcp_server.toolkit.tool
from mcp_server.config import ProviderSettings
from mcp_server.providers import Provider, ProviderRegistry, load_catalogue
from mcp_server.providers.oauth2 import authorization_url
from mcp_server.providers.registry import SECRET_FIELDS
from mcp_server.toolkit.tool import OAuth2

CATALOGUE = load_catalogue()

REQUIRED_IDS = {
    "google", "github", "slack", "microsoft", "zoom", "notion", "linear", "dropbox", "atlassian", "asana",
    "hubspot", "spotify", "discord", "gitlab", "salesforce", "figma", "x", "reddit", "box", "airtable",
}  # fmt: skip

REQUIRED_KEYS = {
    "name", "authorize_url", "token_url", "scope_delimiter", "token_endpoint_auth_method", "pkce", "scopes",
    "authorize_params", "user_id_field", "revocation", "refresh", "docs",
}  # fmt: skip

# Every key a catalogue entry may have, in the order entries list them (the catalogue's header comment).
KEY_ORDER = [
    "name", "authorize_url", "token_url", "refresh_url", "userinfo_url", "userinfo_method", "userinfo_headers",
    "user_id_field", "revocation", "revocation_url", "issuer", "scope_param", "scope_delimiter", "token_response_key",
    "token_endpoint_auth_method", "pkce", "scopes", "authorize_params", "refresh", "error_style", "token_extras",
    "docs",
]  # fmt: skip

# Provider fields that describe one configured app or are set by the registry, never by the catalogue.
NOT_FROM_CATALOGUE = {
    "id",
    "type",
    "client_id",
    "client_secret",
    "discover",
    "sends_iss",
}  # per deployment, or read from the issuer's metadata

URL_KEYS = ("authorize_url", "token_url", "refresh_url", "userinfo_url", "revocation_url", "issuer")

# Parameters the OAuth client sets itself; authorize_params must not override them.
RESERVED_PARAMS = {
    "client_id", "response_type", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method",
}  # fmt: skip

HINTS = get_type_hints(Provider)

entries = pytest.mark.parametrize("provider_id", sorted(CATALOGUE))


def literal_values(field_name: str) -> set[str]:
    values = set(get_args(HINTS[field_name]))
    assert values, f"Provider.{field_name} is not a Literal"
    return values


def assert_plain_https_url(value: Any, what: str) -> None:
    assert isinstance(value, str), f"{what} is not a string: {value!r}"
    parts = urlsplit(value)
    assert parts.scheme == "https", f"{what} is not an https URL: {value!r}"
    assert parts.hostname, f"{what} has no host: {value!r}"
    assert not parts.query and "?" not in value, f"{what} has a query string: {value!r}"
    assert not parts.fragment, f"{what} has a fragment: {value!r}"
    assert value == value.strip() and " " not in value, f"{what} has whitespace: {value!r}"


def test_the_required_providers_are_catalogued() -> None:
    assert REQUIRED_IDS <= set(CATALOGUE), f"missing: {sorted(REQUIRED_IDS - set(CATALOGUE))}"


def test_provider_ids_are_lower_case_names() -> None:
    bad = [provider_id for provider_id in CATALOGUE if not re.fullmatch(r"[a-z][a-z0-9_-]*", provider_id)]
    assert not bad


def test_known_keys_are_provider_fields() -> None:
    fields = {f.name for f in dataclasses.fields(Provider)} - NOT_FROM_CATALOGUE
    assert set(KEY_ORDER) == fields | {"docs"}


@entries
def test_required_keys_present(provider_id: str) -> None:
    missing = REQUIRED_KEYS - set(CATALOGUE[provider_id])
    assert not missing, f"{provider_id} lacks {sorted(missing)}"


@entries
def test_only_known_keys(provider_id: str) -> None:
    unknown = set(CATALOGUE[provider_id]) - set(KEY_ORDER)
    assert not unknown, f"{provider_id} has unknown keys {sorted(unknown)}"


@entries
def test_keys_in_the_common_order(provider_id: str) -> None:
    keys = list(CATALOGUE[provider_id])
    assert keys == [key for key in KEY_ORDER if key in keys]


@entries
def test_name_is_given(provider_id: str) -> None:
    name = CATALOGUE[provider_id]["name"]
    assert isinstance(name, str) and name.strip() == name and name


@entries
def test_urls_are_absolute_https_without_query(provider_id: str) -> None:
    entry = CATALOGUE[provider_id]
    for key in URL_KEYS:
        if key in entry:
            assert_plain_https_url(entry[key], f"{provider_id}.{key}")


@entries
def test_docs_is_an_https_url(provider_id: str) -> None:
    docs = CATALOGUE[provider_id]["docs"]
    assert isinstance(docs, str)
    parts = urlsplit(docs)
    assert parts.scheme == "https" and parts.hostname, f"{provider_id}.docs: {docs!r}"


@entries
def test_enums_are_valid(provider_id: str) -> None:
    entry = CATALOGUE[provider_id]
    for key in ("token_endpoint_auth_method", "revocation", "refresh", "userinfo_method", "error_style"):
        if key in entry:
            assert entry[key] in literal_values(key), f"{provider_id}.{key} = {entry[key]!r}"


@entries
def test_types(provider_id: str) -> None:
    entry = CATALOGUE[provider_id]
    assert type(entry["pkce"]) is bool
    assert entry["scope_delimiter"] in (" ", ","), f"{provider_id}.scope_delimiter = {entry['scope_delimiter']!r}"
    for key in ("scope_param", "token_response_key"):
        if key in entry:
            assert isinstance(entry[key], str) and re.fullmatch(r"[a-z_]+", entry[key]), f"{provider_id}.{key}"
    for name in entry.get("token_extras", []):
        assert isinstance(name, str) and re.fullmatch(r"[a-z_]+", name), f"{provider_id}.token_extras: {name!r}"
        assert name not in SECRET_FIELDS, f"{provider_id}.token_extras names a token: {name!r}"


@entries
def test_revocation_url_goes_with_rfc7009(provider_id: str) -> None:
    entry = CATALOGUE[provider_id]
    if entry["revocation"] == "rfc7009":
        assert "revocation_url" in entry, f"{provider_id}: rfc7009 revocation without revocation_url"
    else:
        assert "revocation_url" not in entry, f"{provider_id}: revocation_url unused with {entry['revocation']!r}"


@entries
def test_scopes_are_single_tokens(provider_id: str) -> None:
    entry = CATALOGUE[provider_id]
    scopes = entry["scopes"]
    assert isinstance(scopes, list)
    for scope in scopes:
        assert isinstance(scope, str) and scope, f"{provider_id}: scope {scope!r}"
        assert not re.search(r"\s", scope), f"{provider_id}: scope {scope!r} has whitespace"
        assert entry["scope_delimiter"] not in scope, f"{provider_id}: scope {scope!r} contains the delimiter"
    assert len(set(scopes)) == len(scopes), f"{provider_id}: repeated scopes"


@entries
def test_authorize_params_are_strings(provider_id: str) -> None:
    entry = CATALOGUE[provider_id]
    params = entry["authorize_params"]
    assert isinstance(params, dict)
    for key, value in params.items():
        assert isinstance(key, str) and key, f"{provider_id}: authorize_params key {key!r}"
        assert isinstance(value, str), f"{provider_id}: authorize_params[{key!r}] = {value!r} is not a string"
    reserved = RESERVED_PARAMS | {entry.get("scope_param", "scope")}
    assert not reserved & set(params), f"{provider_id}: authorize_params override {sorted(reserved & set(params))}"


@entries
def test_userinfo_headers_are_strings(provider_id: str) -> None:
    headers = CATALOGUE[provider_id].get("userinfo_headers", {})
    assert isinstance(headers, dict)
    for key, value in headers.items():
        assert isinstance(key, str) and re.fullmatch(r"[A-Za-z0-9-]+", key), f"{provider_id}: header {key!r}"
        assert isinstance(value, str) and value, f"{provider_id}: header {key!r} = {value!r}"
        assert key.lower() != "authorization", f"{provider_id}: userinfo_headers must not replace the bearer token"


@entries
def test_user_id_field_is_a_dotted_path(provider_id: str) -> None:
    field = CATALOGUE[provider_id]["user_id_field"]
    assert isinstance(field, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", field)


@entries
def test_resolves_needing_only_app_credentials(provider_id: str) -> None:
    entry = CATALOGUE[provider_id]
    provider = ProviderRegistry({}).get(provider_id)
    assert isinstance(provider, Provider)
    assert (provider.id, provider.type, provider.name) == (provider_id, provider_id, entry["name"])
    assert provider.missing_settings() == ["client_id", "client_secret"]
    assert provider.authorize_url == entry["authorize_url"]
    assert provider.token_url == entry["token_url"]
    assert provider.scopes == tuple(entry["scopes"])
    assert dict(provider.authorize_params) == entry["authorize_params"]
    assert provider.pkce is entry["pkce"]
    assert (provider.revocation, provider.refresh) == (entry["revocation"], entry["refresh"])


@entries
def test_named_requirement_class(provider_id: str) -> None:
    classes = [
        obj
        for name in mcp_server.auth.__all__
        if inspect.isclass(obj := getattr(mcp_server.auth, name))
        and issubclass(obj, OAuth2)
        and obj.provider_type == provider_id
    ]
    assert len(classes) == 1, f"{provider_id}: named classes {classes}"
    requirement = classes[0](scopes=["a"])
    assert requirement.id == provider_id
    assert requirement.scopes == ("a",)
    assert type(requirement).provider_type == provider_id


def test_every_named_requirement_class_is_catalogued() -> None:
    named = {
        getattr(mcp_server.auth, name).provider_type
        for name in mcp_server.auth.__all__
        if inspect.isclass(getattr(mcp_server.auth, name)) and getattr(mcp_server.auth, name) is not OAuth2
    }
    assert named == set(CATALOGUE)


def test_auth_exports_are_sorted_and_importable() -> None:
    assert mcp_server.auth.__all__ == sorted(mcp_server.auth.__all__)
    for name in mcp_server.auth.__all__:
        assert getattr(mcp_server.auth, name) is getattr(mcp_server.toolkit.tool, name)


@entries
def test_authorization_url(provider_id: str) -> None:
    entry = CATALOGUE[provider_id]
    provider = ProviderRegistry(
        {provider_id: ProviderSettings(client_id="dummy-client", client_secret="dummy-secret")}
    ).get(provider_id)
    assert provider is not None
    scopes = [*entry["scopes"], "catalogue.test"]
    url = authorization_url(
        provider,
        redirect_uri="https://authmcp.example/callback",
        scopes=scopes,
        state="state-123",
        code_verifier="v" * 64,
    )

    assert url.startswith(entry["authorize_url"] + "?")
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert all(len(values) == 1 for values in query.values()), f"repeated parameters in {url}"
    params = {key: values[0] for key, values in query.items()}
    assert params["client_id"] == "dummy-client"
    assert params["response_type"] == "code"
    assert params["redirect_uri"] == "https://authmcp.example/callback"
    assert params["state"] == "state-123"

    scope_param = entry.get("scope_param", "scope")
    assert params.get(scope_param) == entry["scope_delimiter"].join(scopes), f"{provider_id}: scopes not in {url}"
    if scope_param != "scope":
        assert "scope" not in params

    if entry["pkce"]:
        assert params.get("code_challenge_method") == "S256"
        assert params.get("code_challenge")
    else:
        assert "code_challenge_method" not in params
        assert "code_challenge" not in params

    for key, value in entry["authorize_params"].items():
        assert params.get(key) == value, f"{provider_id}: authorize param {key!r} missing from {url}"
