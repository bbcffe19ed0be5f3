"""The pieces the fault suite leans on, each on its own: the provider request deadline and size cap (against
a real local server that trickles or floods), `expires_in` parsing, the leeway, outage classification, run
files, and a key file followed while in use."""

from __future__ import annotations

import math
import os
import socket
import sqlite3
import threading
import time
from pathlib import Path

import anyio
import pytest
from sqlalchemy import exc as sa_exc

from mcp_server._http import ResponseTooLarge, deadline, httpx2, provider_client
from mcp_server.authorization.instances import RunFile, dead_instances, is_gone, running_instances
from mcp_server.providers.oauth2 import MAX_EXPIRES_IN, parse_expires_in
from mcp_server.vault import Connection, generate_key
from mcp_server.vault.keyring import FileKeyring, Keyring, write_key_file
from mcp_server.vault.outages import describe_outage

pytestmark = pytest.mark.anyio


def serve_once(handler: object) -> str:
    """A one-connection HTTP server on a free port running `handler(conn)` in a thread; its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)

    def run() -> None:
        conn, _ = sock.accept()
        with conn:
            conn.recv(65536)
            try:
                handler(conn)  # type: ignore[operator]
            except OSError:
                pass
        sock.close()

    threading.Thread(target=run, daemon=True).start()
    return f"http://127.0.0.1:{sock.getsockname()[1]}/"


async def test_a_trickled_answer_is_cut_at_the_total_deadline() -> None:
    def trickle(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"x")
            time.sleep(0.2)  # each read well within a per-read timeout of 1 s

    url = serve_once(trickle)
    async with provider_client(1.0) as client:
        with anyio.fail_after(5), pytest.raises(httpx2.TimeoutException):
            async with deadline(1.0):
                await client.get(url)


@pytest.mark.parametrize("declared", [True, False])
async def test_an_oversized_answer_is_refused_while_it_streams(declared: bool) -> None:
    sent = [0]

    def flood(conn: socket.socket) -> None:
        length = f"Content-Length: {200 * 1024 * 1024}\r\n" if declared else "Connection: close\r\n"
        conn.sendall(f"HTTP/1.1 200 OK\r\n{length}\r\n".encode())
        while sent[0] < 200 * 1024 * 1024:
            conn.sendall(b"x" * 65536)
            sent[0] += 65536

    url = serve_once(flood)
    async with provider_client(10.0) as client:
        with pytest.raises(ResponseTooLarge):
            await client.get(url)
    await anyio.sleep(0.2)
    assert sent[0] < 32 * 1024 * 1024


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3600, 3600.0),
        (3600.0, 3600.0),
        ("3600", 3600.0),
        ("3600.0", 3600.0),
        (" 60 ", 60.0),
        ("NaN", None),
        (math.nan, None),
        (math.inf, None),
        ("inf", None),
        (0, None),
        ("0", None),
        (-5, None),
        (None, None),
        ("soon", None),
        (True, None),
        ([3600], None),
        (1e15, MAX_EXPIRES_IN),
    ],
)
def test_expires_in_is_parsed_leniently(value: object, expected: float | None) -> None:
    assert parse_expires_in(value) == expected


def connection(lifetime: float | None, *, stored_ago: float = 0.0) -> Connection:
    now = time.time()
    return Connection(
        user_id="u",
        provider_id="p",
        status="active",
        scopes=(),
        access_token="a",
        refresh_token="r",
        token_type="Bearer",
        expires_at=(now - stored_ago + lifetime) if lifetime is not None else None,
        user_info={},
        version=1,
        updated_at=now - stored_ago,
    )


def test_the_leeway_is_a_tenth_of_the_lifetime_at_most_a_minute() -> None:
    now = time.time()
    assert not connection(4).is_stale(now)  # a fresh 4 s token: good for 3.6 s
    assert connection(4, stored_ago=3.7).is_stale(now)
    assert not connection(3600, stored_ago=3500).is_stale(now)  # 100 s left > 60 s
    assert connection(3600, stored_ago=3545).is_stale(now)  # 55 s left < 60 s
    assert not connection(None).is_stale(now)  # unknown expiry: used until refused


def test_transient_database_failures_are_told_apart_from_bugs() -> None:
    def operational(message: str) -> sa_exc.OperationalError:
        return sa_exc.OperationalError("UPDATE ...", {}, sqlite3.OperationalError(message))

    assert describe_outage(operational("database is locked")) == "busy (another process holds its write lock)"
    assert describe_outage(operational("database or disk is full")) == "out of space"
    assert describe_outage(operational("attempt to write a readonly database")) == "read-only"
    assert describe_outage(operational("unable to open database file")) == "unreachable"
    assert describe_outage(ConnectionRefusedError()) == "unreachable"
    integrity = sa_exc.IntegrityError("INSERT ...", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert describe_outage(integrity) is None
    assert describe_outage(ValueError()) is None


def test_a_run_file_says_alive_until_its_process_lets_go(tmp_path: Path) -> None:
    run = RunFile(tmp_path, "123-abc", {"key_source": "file"})
    assert not is_gone(tmp_path, "123-abc")
    assert [i["instance"] for i in running_instances(tmp_path)] == ["123-abc"]
    assert dead_instances(tmp_path) == []
    assert not is_gone(tmp_path, "999-unknown")  # never seen here: not known to be gone
    assert not is_gone(tmp_path, "../etc")
    assert run._fd is not None
    os.close(run._fd)  # the process "dies" (kill -9 leaves the file): the kernel drops its lock
    run._fd = None
    assert is_gone(tmp_path, "123-abc")
    assert dead_instances(tmp_path) == ["123-abc"]


def test_a_key_file_is_followed_while_in_use(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    old, new = generate_key(), generate_key()
    write_key_file(path, [old], create=True)
    keyring = FileKeyring(path)
    sealed = keyring.encrypt("secret", "ctx")
    write_key_file(path, [new, old], create=False)  # what `keys rotate` does
    resealed = keyring.encrypt("secret", "ctx")
    assert resealed.split(":")[1] == Keyring([new]).primary_key_id  # encrypts with the new key at once
    assert keyring.decrypt(sealed, "ctx") == "secret"  # and still reads the old
    path.write_text("not a key\n")  # a broken file is reported, the keys in use kept
    assert keyring.decrypt(resealed, "ctx") == "secret"
