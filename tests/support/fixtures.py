"""pytest fixtures for the test provider. Load with `pytest_plugins = ["tests.support.fixtures"]`.

- `auth_server`: a provider with client ("authmcp-test", "test-secret") and the redirect URIs of
  `auth_server_redirect_uris`, which a test module or conftest overrides to name its own callback.
- `auth_server_factory(redirect_uris=None, *, client_id=..., client_secret=..., access_ttl=3600,
  rotate_refresh=True, issuer=None, scopes=None, extra_clients=())`: start more, or differently configured,
  ones; `extra_clients` are more (client_id, secret, redirect_uri) registrations.

Every server a fixture starts is stopped when the test ends.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import pytest

from .provider import AuthServer

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "DEFAULT_REDIRECT_URI",
    "AuthServerFactory",
    "auth_server",
    "auth_server_factory",
    "auth_server_redirect_uris",
]

CLIENT_ID = "authmcp-test"
CLIENT_SECRET = "test-secret"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8000/oauth/callback"


class AuthServerFactory(Protocol):
    def __call__(
        self,
        redirect_uris: Sequence[str] | None = None,
        *,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        access_ttl: int = 3600,
        rotate_refresh: bool = True,
        issuer: str | None = None,
        scopes: Sequence[str] | None = None,
        extra_clients: Sequence[tuple[str, str, str]] = (),
    ) -> AuthServer: ...


@pytest.fixture
def auth_server_redirect_uris() -> list[str]:
    """The redirect URIs registered for the test client; override to match the server under test."""
    return [DEFAULT_REDIRECT_URI]


@pytest.fixture
def auth_server_factory(auth_server_redirect_uris: list[str]) -> Iterator[AuthServerFactory]:
    started: list[AuthServer] = []

    def start(
        redirect_uris: Sequence[str] | None = None,
        *,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        access_ttl: int = 3600,
        rotate_refresh: bool = True,
        issuer: str | None = None,
        scopes: Sequence[str] | None = None,
        extra_clients: Sequence[tuple[str, str, str]] = (),
    ) -> AuthServer:
        uris = list(auth_server_redirect_uris if redirect_uris is None else redirect_uris)
        server = AuthServer.start(
            clients=[*((client_id, client_secret, uri) for uri in uris), *extra_clients],
            access_ttl=access_ttl,
            rotate_refresh=rotate_refresh,
            issuer=issuer,
            scopes=scopes,
        )
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def auth_server(auth_server_factory: AuthServerFactory) -> AuthServer:
    return auth_server_factory()
