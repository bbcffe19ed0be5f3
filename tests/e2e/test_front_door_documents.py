"""Client ID Metadata Documents at the front door: a document client connects; the documents to refuse are.

authmcp's public_url is http on loopback here, so http://127.0.0.1 client-id URLs are accepted (development);
everything else about the fetch is as in production: no redirects, a size cap, a deadline, addresses checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.e2e.conftest import Stack
from tests.e2e.front_door_steps import (  # noqa: F401 - door and browser are fixtures
    REDIRECT_URI,
    authorize,
    back_at_client,
    browser,
    door,
    exchange,
    front_door_stack,
    initialize,
    pkce,
)
from tests.support.documents import DocumentServer
from tests.support.tls import make_test_ca


@pytest.fixture
def documents() -> Iterator[DocumentServer]:
    with DocumentServer(REDIRECT_URI) as server:
        yield server


def test_a_document_client_connects_and_its_document_is_cached(
    door: Stack, documents: DocumentServer, browser: httpx2.Client
) -> None:
    client_id = f"{documents.url}/client.json"
    verifier, challenge = pkce()
    answer = authorize(door, browser, client_id, challenge)
    back = back_at_client(answer)
    tokens = exchange(door, client_id, back.code, verifier)
    assert tokens.status_code == 200, tokens.text
    assert initialize(door, tokens.json()["access_token"]).status_code == 200
    assert documents.gets["/client.json"] == 1  # max-age=600: fetched once for /authorize, consent and /token


def test_the_consent_page_names_the_documents_host(
    door: Stack, documents: DocumentServer, browser: httpx2.Client
) -> None:
    _, challenge = pkce()
    # signs in, and says no the first time
    denied = back_at_client(authorize(door, browser, f"{documents.url}/client.json", challenge, decision="deny"))
    assert denied.params["error"] == "access_denied"
    first = browser.get(
        f"{door.base_url}/authorize",
        params={
            "response_type": "code",
            "client_id": f"{documents.url}/client.json",
            "redirect_uri": REDIRECT_URI,
            "code_challenge": challenge,
        },
    )
    consent = browser.get(first.url.join(first.headers["location"]))
    assert "Document client" in consent.text
    assert f"described at <strong>127.0.0.1:{documents.url.rsplit(':', 1)[1]}</strong>" in consent.text


@pytest.mark.parametrize("path", ["/redirect.json", "/large.json", "/trickle.json"])
def test_a_document_that_redirects_is_too_large_or_trickles_is_refused(
    door: Stack, documents: DocumentServer, browser: httpx2.Client, path: str
) -> None:
    _, challenge = pkce()
    answer = authorize(door, browser, f"{documents.url}{path}", challenge)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request" and "not found" in answer.json()["error_description"]
    assert documents.gets[path] == 1  # asked once; for the redirect, 169.254.169.254 never


def test_a_client_id_at_a_link_local_address_is_never_fetched(door: Stack, browser: httpx2.Client) -> None:
    _, challenge = pkce()
    for client_id in ("http://169.254.169.254/latest/client.json", "https://10.0.0.1/client.json"):
        answer = authorize(door, browser, client_id, challenge)
        assert answer.status_code == 400 and "not found" in answer.json()["error_description"]


@pytest.mark.parametrize("case", ["certificate for another name", "CA not trusted"])
def test_an_https_document_whose_certificate_does_not_verify_is_refused(
    stack_factory: Any, browser: httpx2.Client, tmp_path: Path, case: str
) -> None:
    names = ("other.test",) if case == "certificate for another name" else ("localhost",)
    ca = make_test_ca(tmp_path / "ca", names=names, ips=())
    trusted = make_test_ca(tmp_path / "trusted") if case == "CA not trusted" else ca  # authmcp trusts another CA
    with DocumentServer(REDIRECT_URI, tls=ca.server_context(), host="localhost") as documents:
        stack = front_door_stack(stack_factory, env={"SSL_CERT_FILE": str(trusted.ca_file)})
        _, challenge = pkce()
        answer = authorize(stack, browser, f"{documents.url}/client.json", challenge)
        assert answer.status_code == 400 and "not found" in answer.json()["error_description"]
        assert documents.gets == {}  # the handshake failed: no request was sent
        assert "Traceback" not in stack.output()
