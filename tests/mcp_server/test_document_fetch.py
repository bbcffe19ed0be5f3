"""The Client ID Metadata Document fetch, in process, with a resolver the test controls: the connection goes to
the address that was checked (a name that answers differently the second time is never asked again), the next
checked address is tried when one refuses, and a name resolving to a private address is never fetched from."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any, cast

import pytest

from mcp_server.front_door.documents import DocumentClients
from mcp_server.front_door.provider import FrontDoor
from tests.support.documents import DocumentServer

pytestmark = pytest.mark.anyio

REDIRECT_URI = "http://127.0.0.1:33418/callback"
_REAL_GETADDRINFO = socket.getaddrinfo


class Resolver:
    """`socket.getaddrinfo` for one name: `answers[i]` (addresses) at its i-th lookup, the last one ever after;
    every other name as the system resolves it."""

    def __init__(self, name: str, *answers: tuple[str, ...]) -> None:
        self.name, self.answers, self.lookups = name, answers, 0

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in (self.name, self.name.encode()):
            return _REAL_GETADDRINFO(host, port, *args, **kwargs)
        addresses = self.answers[min(self.lookups, len(self.answers) - 1)]
        self.lookups += 1
        return [info for address in addresses for info in _REAL_GETADDRINFO(address, port, *args, **kwargs)]


@pytest.fixture
def documents() -> Iterator[DocumentServer]:
    with DocumentServer(REDIRECT_URI, host="localhost") as server:
        yield server


async def test_the_connection_goes_to_the_checked_address_not_a_second_answer(
    documents: DocumentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a rebinding resolver: loopback (allowed in development) to the check, the cloud metadata address after
    resolver = Resolver("localhost", ("127.0.0.1",), ("169.254.169.254",))
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    url = f"{documents.url}/client.json"
    client = await DocumentClients(development=True).get(url)
    assert client is not None and client.client_id == url and client.client_name == "Document client"
    assert resolver.lookups == 1  # resolved once, for the check; the connect used that answer
    assert documents.hosts == [url.split("/")[2]]  # the name kept in Host: "localhost:<port>"


async def test_a_checked_address_that_refuses_gives_way_to_the_next_checked_one(
    documents: DocumentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # nothing listens on 127.0.0.2 (the server is bound to 127.0.0.1 alone): refused, then 127.0.0.1 answers
    resolver = Resolver("localhost", ("127.0.0.2", "127.0.0.1"))
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    client = await DocumentClients(development=True).get(f"{documents.url}/client.json")
    assert client is not None and resolver.lookups == 1 and documents.gets["/client.json"] == 1


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "::ffff:10.1.2.3"])
async def test_outside_development_a_name_resolving_to_a_non_public_address_is_never_fetched(
    documents: DocumentServer, monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    resolver = Resolver("localhost", (address,))
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    assert await DocumentClients(development=False).get(f"{documents.url}/client.json") is None
    assert resolver.lookups == 1 and documents.gets == {}


async def test_one_non_public_address_among_public_ones_refuses_the_name(
    documents: DocumentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolver = Resolver("localhost", ("93.184.215.14", "10.0.0.1"))
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    assert await DocumentClients(development=False).get(f"{documents.url}/client.json") is None
    assert documents.gets == {}


@pytest.mark.parametrize(
    ("public_url", "development"),
    [("http://127.0.0.1:8000", True), ("https://localhost:8443", True), ("https://mcp.example.com", False)],
)
def test_development_means_a_public_url_on_loopback_over_http_or_https(public_url: str, development: bool) -> None:
    door = FrontDoor(cast(Any, None), public_url=public_url, access_token_ttl=60)  # the store is not used here
    assert door.documents.development is development
    assert door.is_document_client("http://127.0.0.1:9000/client.json") is development
    assert door.is_document_client("https://localhost:9000/client.json")  # fetched, then its addresses checked
