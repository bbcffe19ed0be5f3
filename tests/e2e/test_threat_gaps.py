"""Defences of docs/security.md that had no test of their own, each attacked as an attacker would, with real
processes: the key never in the database, state only hashed and the PKCE verifier only encrypted, no code or
state in any log line even at DEBUG (HTTP and stdio), loopback-only by default, and fuzzed browser routes."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import sqlite3
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import anyio
import httpx2
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from mcp_server.vault.digest_keys import APPROVAL_CALL, AUDIT_ARGUMENTS
from mcp_server.vault.keyring import FileKeyring, Keyring, read_key_file
from mcp_server.vault.sealing import flow_context
from tests.conftest import REPO
from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, stored_tokens
from tests.e2e.test_security import browser, database_bytes, expire_stored_tokens, pending_link
from tests.support.fixtures import CLIENT_SECRET

pytestmark = pytest.mark.anyio

API_TOOLKIT = str(REPO / "tests" / "support" / "api_toolkit.py")


def db_file(stack: Stack) -> Path:
    return Path(stack.settings["data_dir"]) / "authmcp.db"


def query(stack: Stack, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db_file(stack)) as db:
        return db.execute(sql, args).fetchall()


def found_in(haystack: Any, secrets: dict[str, Any]) -> list[str]:
    """The names of the secrets that are in `haystack`. Assert on the list, held in a variable: a failing
    assertion then prints names, never the secret values (nor the whole log or database it searched)."""
    return [name for name, value in secrets.items() if value in haystack]


def callback_values(callback: str) -> tuple[str, str]:
    """The (code, state) the provider sent the browser back with."""
    params = parse_qs(urlsplit(callback).query)
    return params["code"][0], params["state"][0]


async def finish_in_browser(stack: Stack, link: str, username: str) -> tuple[str, str]:
    """Consent at the provider and land on the callback, as a person does; the callback's (code, state)."""
    async with browser() as b:
        callback = await stack.provider.aconsent(b, link, username)
        landed = await b.get(callback)
        assert landed.status_code == 303, landed.text
    return callback_values(callback)


# ---------------------------------------------------------------- §3: keys never live in the database


def key_encodings(name: str, raw: bytes) -> dict[str, bytes]:
    """A key as raw bytes, as the key file writes it (base64url without padding) and every other way it could
    have been written down."""
    forms = {
        "raw": raw,
        "base64url": base64.urlsafe_b64encode(raw).rstrip(b"="),
        "padded base64url": base64.urlsafe_b64encode(raw),
        "base64": base64.b64encode(raw),
        "unpadded base64": base64.b64encode(raw).rstrip(b"="),
        "hex": raw.hex().encode(),
        "HEX": raw.hex().upper().encode(),
    }
    return {f"{name} as {form}": value for form, value in forms.items()}


async def test_encryption_key_never_lands_in_the_database_file(stack: Stack) -> None:
    process = stack.start_http()
    link = await pending_link(stack)
    await finish_in_browser(stack, link, "alice")
    access, refresh = await stored_tokens(stack, "local-user")
    assert refresh and query(stack, "select count(*) from connections") == [(1,)]
    keys = read_key_file(Path(stack.settings["data_dir"]) / "keys")
    forbidden: dict[str, bytes] = {}
    for index, text in enumerate(keys):
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        assert len(raw) == 32 and text.encode() in key_encodings("", raw).values()
        forbidden |= key_encodings(f"key #{index + 1}", raw)
    for purpose in (AUDIT_ARGUMENTS, APPROVAL_CALL):  # derived from the first key, stored only encrypted
        forbidden |= key_encodings(purpose, Keyring(keys).derive(purpose))

    while_running = database_bytes(stack)  # the main file and its -wal, as a backup taken now would copy them
    assert Path(f"{db_file(stack)}-wal").exists()
    process.terminate()
    process.wait(10)
    after_checkpoint = database_bytes(stack)
    for dump in (while_running, after_checkpoint):
        in_clear = found_in(dump, {"access token": access.encode()})
        assert not in_clear  # the dump holds the connection, encrypted
        leaked = found_in(dump, forbidden)
        assert not leaked, "key material is in the database file"


# ---------------------------------------------------------------- §1: state hashed, PKCE verifier encrypted


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


async def test_oauth_state_is_stored_only_as_a_hash_and_the_pkce_verifier_only_encrypted(stack: Stack) -> None:
    stack.start_http()
    link = await pending_link(stack)
    flow_id = urlsplit(link).path.rsplit("/", 1)[1]
    async with browser() as b:
        to_provider = await b.get(link)  # not followed: nothing reaches the provider's consent
    assert to_provider.status_code == 303
    location = urlsplit(to_provider.headers["location"])
    assert location.path == "/authorize"
    sent = {k: v[0] for k, v in parse_qs(location.query).items()}
    state, challenge = sent["state"], sent["code_challenge"]
    assert sent["code_challenge_method"] == "S256" and len(state) >= 22  # >= 128 bits in base64url

    dump = database_bytes(stack)
    leaked = found_in(dump, {"state": state.encode()})
    assert not leaked, "the state is in the database in clear"
    [(state_hash, sealed)] = query(stack, "select state_hash, code_verifier from flows where id = ?", flow_id)
    assert state_hash == hashlib.sha256(state.encode()).hexdigest()
    # the verifier is stored sealed: decrypted with the key file it is the one whose S256 the provider was sent
    assert sealed.startswith("v1:")
    verifier = FileKeyring(Path(stack.settings["data_dir"]) / "keys").decrypt(sealed, flow_context(flow_id))
    assert s256(verifier) == challenge
    leaked = found_in(dump, {"verifier": verifier.encode()})
    assert not leaked, "the PKCE verifier is in the database in clear"
    # and no run of PKCE characters anywhere in the file (a copy of it in another column) hashes to the challenge
    for run in re.findall(rb"[A-Za-z0-9._~-]{43,}", dump):
        text = run.decode()
        windows = (text[i : i + n] for n in range(43, min(128, len(text)) + 1) for i in range(len(text) - n + 1))
        assert not any(s256(window) == challenge for window in windows), "the PKCE verifier is in the database in clear"


# ---------------------------------------------------------------- §1: no log line holds a code or state


async def test_no_log_line_holds_the_callbacks_code_or_state_even_at_debug(stack_factory: Any) -> None:
    stack = stack_factory(log_level="DEBUG")
    stack.start_http()
    link = await pending_link(stack)
    code, state = await finish_in_browser(stack, link, "alice")
    async with mcp_client(stack, "http") as client:
        assert not (await client.call_tool("Demo_WhoAmI", {})).is_error
    stack.stop()
    output = stack.output()
    assert " DEBUG " in output  # the level was in force
    leaked = found_in(output, {"code": code, "state": state})
    assert not leaked, "the callback's code or state is in the log"


# ---------------------------------------------------------------- §2: loopback only by default


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """The (address, port) of every listening TCP socket the process holds, from /proc (IPv4 and IPv6)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = set()
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, status, inode = fields[1], fields[3], fields[9]
            if status != "0A" or inode not in inodes:  # 0A: LISTEN
                continue
            address_hex, port_hex = local.split(":")
            packed = bytes.fromhex(address_hex)
            # /proc prints each 32-bit word of the address in host (little-endian) order
            packed = b"".join(packed[i : i + 4][::-1] for i in range(0, len(packed), 4))
            found.add((socket.inet_ntop(family, packed), int(port_hex, 16)))
    return found


def accepts(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=5):
            return True
    except ConnectionRefusedError:
        return False


async def test_http_serve_listens_on_loopback_only_unless_told_otherwise(stack_factory: Any) -> None:
    # with authentication configured, nothing else would keep a server on all interfaces from starting
    stack = stack_factory(mcp_auth={"tokens": {"tok-bind-3f1a": "alice"}}, api={"verification": "none"})
    assert "--host" not in stack.serve_args("http")
    process = stack.start_http()
    # where the kernel says the server listens: 127.0.0.1 alone, not 0.0.0.0 nor ::, so no other address of
    # this machine (nor one of another) reaches it
    assert listening_addresses(process.pid) == {("127.0.0.1", stack.port)}
    assert accepts("127.0.0.1", stack.port)
    # another local address of the machine: a server on every interface would accept here. (Tests send traffic to
    # loopback addresses only, so the machine's other addresses are proved by the listening address above.)
    assert not accepts("127.0.0.2", stack.port)


# ---------------------------------------------------------------- §2: stdio logs are redacted too


async def test_stdio_logs_carry_no_token_code_state_or_client_secret(stack_factory: Any) -> None:
    # every call after the first finds the access token stale: the refresh path is logged too
    stack = stack_factory(log_level="DEBUG", connection_cache_seconds=0, provider_options={"access_ttl": 30})
    with tempfile.TemporaryFile("w+") as errlog:
        async with mcp_client(stack, "stdio", errlog=errlog) as client:
            first = await client.call_tool("Demo_WhoAmI", {})
            assert first.is_error
            link = str((first.meta or {})["url"])
            assert link.startswith(f"{stack.base_url}/connect/")
            code, state = await finish_in_browser(stack, link, "alice")
            issued = await stored_tokens(stack, "local-user")
            for _ in range(2):
                expire_stored_tokens(stack)
                assert not (await client.call_tool("Demo_WhoAmI", {})).is_error
            refreshed = await stored_tokens(stack, "local-user")
        assert refreshed != issued and stack.provider.stats()["token_requests"]["refresh_token"] >= 2
        errlog.seek(0)
        logged = errlog.read()
    assert " DEBUG " in logged and "flow " in logged  # the logs were there, at DEBUG
    secrets = {
        "access token": issued[0],
        "refresh token": issued[1],
        "refreshed access token": refreshed[0],
        "rotated refresh token": refreshed[1],
        "code": code,
        "state": state,
        "client secret": CLIENT_SECRET,
    }
    assert all(secrets.values())
    leaked = found_in(logged, secrets)
    assert not leaked, "a secret is in the log"


# ---------------------------------------------------------------- §5 case 16: fuzzed browser routes

_TRICKY = st.sampled_from(
    [
        "\r\nSet-Cookie: authmcp_flow=forged",
        "\x00",
        "a\x00b",
        '"><script>alert(1)</script>',
        "<img src=x onerror=1>",
        "\u202e\u2028\ufeff",
        "%00%0d%0a",
        "' or 1=1 --",
        "../../etc/passwd",
        "&amp;<>&#39;",
    ]
)


class Long(str):
    """A long value that hypothesis reports as how it was made, not as its thousands of characters."""

    recipe: str

    def __new__(cls, piece: str, n: int) -> Long:
        made = super().__new__(cls, piece * n)
        made.recipe = f"{piece!r} * {n}"
        return made

    def __repr__(self) -> str:
        return self.recipe


# past the 4096 characters a callback reads of a value, in pieces that grow when percent-encoded
_LONG = st.builds(Long, st.sampled_from(["A", "z9-", "<b>", "\u00e9", "\r\n", "\U0001d11e"]), st.integers(1500, 5000))
VALUES = st.one_of(st.text(max_size=40), _TRICKY, _LONG)
KEYS = st.one_of(
    st.sampled_from(["code", "state", "iss", "error", "error_description", "csrf", "decision", "value"]),
    st.text(min_size=1, max_size=12),
)
PAIRS = st.lists(st.tuples(KEYS, VALUES), max_size=6)  # duplicated keys come as they come
_MARKUP = re.compile(r"[<>\"'&]")
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def reflected(sent: str, response: httpx2.Response) -> bool:
    """Whether a value sent shows in the answer unescaped: one with markup at all, any other long enough not to be
    a word of the page by chance."""
    distinctive = (len(sent) >= 6 and _MARKUP.search(sent)) or len(sent.strip()) >= 16
    headers = " ".join(response.headers.values())
    return bool(distinctive) and (sent in response.text or sent in headers)


def assert_refused_or_a_page(response: httpx2.Response, sent: list[str], stack: Stack) -> None:
    assert response.status_code < 500, response.text
    for value in sent:
        assert not reflected(value, response), value
    if response.is_redirect:  # only the flow's own browser is sent on: to the provider, or to our own pages
        location = response.headers["location"]
        assert location.startswith((stack.provider.authorization_endpoint + "?", f"{stack.base_url}/", "/")), location
    elif response.headers.get("content-type", "").startswith("text/html"):
        assert re.search(r"<title>([^<]+ · authmcp|authmcp[^<]*)</title>", response.text), response.text[:300]
        assert response.headers["cache-control"] == "no-store"
    elif response.status_code in (404, 405) and response.headers.get("content-type") == "application/json":
        # a path that is not ours, or a method it does not take, asked by a program
        assert response.json()["name"] == {404: "not_found", 405: "method_not_allowed"}[response.status_code]
    else:  # the router's or the host check's own refusal
        assert response.status_code in (400, 403, 404, 405, 413, 421), response.status_code
        assert response.headers.get("content-type", "").startswith("text/plain") and len(response.text) < 200


OPENED = {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Sec-Fetch-User": "?1"}
FETCH_HEADERS = st.sampled_from([{}, OPENED, {**OPENED, "Sec-Fetch-Site": "same-origin"}])  # a link opened, a click


class FuzzTarget:
    """One server for every fuzzed route, with a flow of each kind bound to a person's browser, and a stranger
    (another browser) that knows the links and, from the person's redirect, the flow's current state."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.person = httpx2.Client(trust_env=False, timeout=15)
        self.stranger = httpx2.Client(trust_env=False, timeout=15)

        async def links() -> tuple[str, str]:
            async with mcp_client(stack, "http") as client:
                connect = await client.call_tool("Demo_WhoAmI", {})
                approve = await client.call_tool("Gmail_SendEmail", {"recipient": "bob@example.com", "subject": "Hi"})
            return str((connect.meta or {})["url"]), str((approve.meta or {})["url"])

        connect, approve = anyio.run(links)
        self.ids = [urlsplit(url).path.rsplit("/", 1)[1] for url in (connect, approve)]
        self.state = ""
        self.note_state(self.person.get(connect))
        assert self.person.get(approve, headers=OPENED).status_code == 200
        self.before = self.flows()
        assert [status for _, status, _ in self.before[:-1]] == ["pending", "pending"]

    def flows(self) -> list[tuple[Any, ...]]:
        return query(self.stack, "select id, status, browser_hash from flows order by id") + query(
            self.stack, "select count(*) from connections"
        )

    def note_state(self, response: httpx2.Response) -> None:
        """The person's browser sent (again) to the provider: the flow's state is now the new one."""
        if response.is_redirect and response.headers["location"].startswith(self.stack.provider.authorization_endpoint):
            self.state = parse_qs(urlsplit(response.headers["location"]).query)["state"][0]

    def send(
        self,
        method: str,
        route: str,
        flow_id: str,
        pairs: list[tuple[str, str]],
        *,
        as_person: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        client = self.person if as_person else self.stranger
        url = self.stack.base_url + route.format(quote(flow_id, safe=""))
        encoded = urlencode(pairs)  # as a browser sends them: percent-encoded UTF-8, duplicates kept
        if method == "GET":
            assume(len(url) + len(encoded) < 65000)  # the longest URL the HTTP client sends
            response = client.get(f"{url}?{encoded}", headers=headers, follow_redirects=False)
        else:
            form = {**(headers or {}), "Content-Type": "application/x-www-form-urlencoded"}
            response = client.post(url, content=encoded, headers=form, follow_redirects=False)
        if as_person:
            self.note_state(response)
        known = {*self.ids, self.state}
        sent = [value for pair in pairs for value in pair if value not in known] + [flow_id] * (flow_id not in known)
        assert_refused_or_a_page(response, sent, self.stack)
        assert self.flows() == self.before  # same flows, same statuses, still bound to the person's browser

    def close(self) -> None:
        self.person.close()
        self.stranger.close()


@pytest.fixture
def fuzz_target(stack_factory: Any, tmp_path: Path) -> Any:
    # database=None keeps no examples; this keeps hypothesis's caches (unicode tables, constants) out of the tree too
    set_hypothesis_home_dir(tmp_path / "hypothesis")
    stack = stack_factory(approval={"policy": "listed", "tools": ["Gmail.SendEmail"]})
    stack.start_http("--toolkit", API_TOOLKIT)
    target = FuzzTarget(stack)
    yield target
    target.close()
    set_hypothesis_home_dir(None)


def test_fuzzed_browser_routes_never_fail_reflect_or_move_a_flow(fuzz_target: FuzzTarget) -> None:
    target = fuzz_target
    # a real link's id twice as often as any other text: most of what a route does is for a known flow
    path_ids = st.one_of(st.sampled_from(target.ids), st.sampled_from(target.ids), st.text(min_size=1, max_size=80))
    methods = st.sampled_from(["GET", "POST"])

    @FUZZ
    @given(flow_id=path_ids, pairs=PAIRS, method=methods, as_person=st.booleans())
    # found by this test: Starlette's trailing-slash redirect copied the query into its Location
    @example(flow_id="0/", pairs=[("code", "A" * 1500)], method="GET", as_person=False)
    def connect(flow_id: str, pairs: list[tuple[str, str]], method: str, as_person: bool) -> None:
        target.send(method, "/connect/{}", flow_id, pairs, as_person=as_person)

    @FUZZ
    @given(flow_id=path_ids, pairs=PAIRS, as_person=st.booleans())
    def done(flow_id: str, pairs: list[tuple[str, str]], as_person: bool) -> None:
        target.send("GET", "/connect/{}/done", flow_id, pairs, as_person=as_person)

    @FUZZ
    @given(pairs=PAIRS, as_person=st.booleans(), real_state=st.booleans())
    def callback(pairs: list[tuple[str, str]], as_person: bool, real_state: bool) -> None:
        # the flow's live state is the stranger's only: in the person's browser it would end the flow, as it should
        if real_state:
            target.send("GET", "/oauth/callback", "", [("state", target.state), *pairs], as_person=False)
        else:
            target.send("GET", "/oauth/callback", "", pairs, as_person=as_person)

    @FUZZ
    @given(flow_id=path_ids, pairs=PAIRS, method=methods, as_person=st.booleans(), headers=FETCH_HEADERS)
    def approve(
        flow_id: str, pairs: list[tuple[str, str]], method: str, as_person: bool, headers: dict[str, str]
    ) -> None:
        target.send(method, "/approve/{}", flow_id, pairs, as_person=as_person, headers=headers)

    for prop in (connect, done, callback, approve):
        prop()
