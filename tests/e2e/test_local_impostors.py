"""Other programs on the same machine playing authmcp to its own processes: a program that takes the shared pages'
port when its holder dies, and datagrams forged to the ports where the processes hear "a flow finished".

Every server is a real `authmcp serve --transport stdio` process on one data dir; the impostor is a plain socket
server in a process of its own that does not know the data dir's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import anyio
import httpx2
import pytest

from tests.e2e.clients import CompletionNotices, mcp_client, url_elicitation_required
from tests.e2e.conftest import Stack, authorize_in_browser
from tests.e2e.test_shared_pages import assert_profile, pages_answer, start_stdio, stop, until

pytestmark = pytest.mark.anyio

# Binds the port the moment it is free, then records every request and answers each like an authmcp that does
# not know the secret would have to: with a made-up proof.
IMPOSTOR = r"""
import json, socket, sys, time
port, record = int(sys.argv[1]), sys.argv[2]
while True:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        break
    except OSError:
        sock.close()
        time.sleep(0.001)
sock.listen(16)
print("bound", flush=True)
body = json.dumps({"server": "authmcp", "proof": "0" * 64}).encode()
while True:
    conn, _ = sock.accept()
    conn.settimeout(1)
    data = b""
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(body) + body)
    except OSError:
        pass
    conn.close()
    with open(record, "ab") as f:
        f.write(data + b"\n---\n")
"""


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Any]:
    """A log a server appends to (O_APPEND: the test reads it while the server writes) and its path."""
    files: list[IO[str]] = []

    def make(name: str) -> tuple[Path, IO[str]]:
        files.append(open(tmp_path / name, "a"))
        return tmp_path / name, files[-1]

    yield make
    for f in files:
        f.close()


# Listens on the pages' port and passes every connection on to another port: a relay in front of a real authmcp.
RELAY = r"""
import socket, sys, threading
port, target = int(sys.argv[1]), int(sys.argv[2])
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(16)
print("bound", flush=True)

def pipe(source, sink):
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    sink.close()

while True:
    conn, _ = listener.accept()
    upstream = socket.create_connection(("127.0.0.1", target))
    threading.Thread(target=pipe, args=(conn, upstream), daemon=True).start()
    threading.Thread(target=pipe, args=(upstream, conn), daemon=True).start()
"""


def server_pids(stack: Stack) -> set[int]:
    """The authmcp processes listening for notices on the stack's database (their entries in the notices dir)."""
    directory = Path(stack.settings["data_dir"]) / ".authmcp.db.notices"
    return {int(entry.name.split("-")[0]) for entry in directory.iterdir()}


def notice_ports(stack: Stack, pid: int) -> list[int]:
    directory = Path(stack.settings["data_dir"]) / ".authmcp.db.notices"
    return [int(entry.read_text()) for entry in directory.iterdir() if entry.name.startswith(f"{pid}-")]


async def test_a_program_that_takes_the_pages_port_when_its_holder_dies_gets_no_link_and_no_flow_id(
    stack_factory: Any, tmp_path: Path, log_file: Any
) -> None:
    stack = stack_factory()
    holder = start_stdio(stack, log_file("holder.log")[1])
    record = tmp_path / "impostor-heard"
    impostor: subprocess.Popen[bytes] | None = None
    survivor_log, survivor_errlog = log_file("survivor.log")
    try:
        await until(lambda: pages_answer(stack), "the holder serves the pages")
        async with mcp_client(stack, "stdio", mode="legacy", errlog=survivor_errlog) as survivor:
            await survivor.list_tools()
            (survivor_pid,) = server_pids(stack) - {holder.pid}
            earlier = await survivor.call_tool("Demo_WhoAmI", {})  # a link handed out while the holder was ours
            assert earlier.is_error and earlier.meta["url"].startswith(f"{stack.base_url}/connect/")
            earlier_id = earlier.meta["flow_id"]

            # The impostor wins the race for the port: the survivor is held still until it has bound it.
            impostor = subprocess.Popen(
                [sys.executable, "-c", IMPOSTOR, str(stack.port), str(record)], stdout=subprocess.PIPE
            )
            os.kill(survivor_pid, signal.SIGSTOP)
            try:
                holder.kill()
                holder.wait()
                assert impostor.stdout is not None
                assert await anyio.to_thread.run_sync(impostor.stdout.readline) == b"bound\n"
            finally:
                os.kill(survivor_pid, signal.SIGCONT)

            refused = await survivor.call_tool("Demo_WhoAmI", {})  # the link is checked as it is handed out
            assert refused.is_error and not (refused.meta or {}).get("url")
            text = refused.content[0].text
            assert f"127.0.0.1:{stack.port}" in text and "Stop that program" in text
            assert "/connect/" not in text
            await until(lambda: "does not prove to be an authmcp" in survivor_log.read_text(), "the watcher saw it")

            heard = record.read_bytes()
            assert b"/.well-known/authmcp?nonce=" in heard  # the survivor asked it to prove itself ...
            assert earlier_id.encode() not in heard and b"/connect/" not in heard  # ... and gave it nothing else

            impostor.kill()
            impostor.wait()
            await until(lambda: pages_answer(stack), "the survivor serves the pages once the impostor is gone")
            async with httpx2.AsyncClient(timeout=10, trust_env=False) as browser:
                withdrawn = await browser.get(earlier.meta["url"])
            assert withdrawn.status_code == 410  # the link the impostor could have seen is worth nothing now
            fresh = await survivor.call_tool("Demo_WhoAmI", {})
            assert fresh.meta["url"].startswith(f"{stack.base_url}/connect/") and fresh.meta["flow_id"] != earlier_id
            assert (await authorize_in_browser(stack.provider, fresh.meta["url"], "bob")).status_code == 200
            assert_profile(await survivor.call_tool("Demo_WhoAmI", {}), "bob")
        text = survivor_log.read_text()
        assert "serving them here now" in text and "Traceback" not in text
    finally:
        stop(holder)
        if impostor is not None:
            if impostor.poll() is None:
                impostor.kill()
                impostor.wait()
            assert impostor.stdout is not None
            impostor.stdout.close()


async def test_a_forged_flow_finished_datagram_does_not_complete_a_2025_11_25_clients_elicitation(
    stack_factory: Any, log_file: Any
) -> None:
    stack = stack_factory()
    holder = start_stdio(stack, log_file("holder.log")[1])  # serves the pages: the callback lands there
    log, errlog = log_file("server.log")
    notices = CompletionNotices()
    completed = notices.completed
    try:
        await until(lambda: pages_answer(stack), "the holder serves the pages")
        async with mcp_client(stack, "stdio", errlog=errlog, **notices.client_options()) as client:
            elicitation = await url_elicitation_required(client)
            (server_pid,) = server_pids(stack) - {holder.pid}
            (port,) = notice_ports(stack, server_pid)
            payload = json.dumps({"origin": "0123456789abcdef", "flow": elicitation.elicitation_id}).encode()
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                # what any local program can send: the format of the notices before they were authenticated
                udp.sendto(payload, ("127.0.0.1", port))
                await until(
                    lambda: completed.is_set() or "dropped 1 notice datagram" in log.read_text(), "the forgery was read"
                )
                assert not completed.is_set()
                # one with the database's key (only its owner can read it) but of a flow still open: a replay
                key = (Path(stack.settings["data_dir"]) / ".authmcp.db.notices.key").read_bytes().strip()
                udp.sendto(hmac.new(key, payload, hashlib.sha256).digest() + payload, ("127.0.0.1", port))
                await until(lambda: "the vault shows it open; ignored" in log.read_text(), "the replay was read")
            assert not completed.is_set()

            page = await authorize_in_browser(stack.provider, elicitation.url, "alice")  # finishes in the holder
            assert page.status_code == 200
            with anyio.fail_after(10):
                await completed.wait()
            assert notices.ids == [elicitation.elicitation_id]
            assert_profile(await client.call_tool("Demo_WhoAmI", {}), "alice")
        assert "Traceback" not in log.read_text()
    finally:
        stop(holder)


async def test_a_relay_to_an_authmcp_on_another_port_of_the_same_data_dir_does_not_pass_for_the_pages(
    stack_factory: Any, log_file: Any
) -> None:
    stack = stack_factory(replicas=1)
    stack.replica(0).start_http()  # a real authmcp on the same data dir, on another port
    relay = subprocess.Popen(
        [sys.executable, "-c", RELAY, str(stack.port), str(stack.replica_ports[0])], stdout=subprocess.PIPE
    )
    log, errlog = log_file("stdio.log")
    try:
        assert relay.stdout is not None
        assert await anyio.to_thread.run_sync(relay.stdout.readline) == b"bound\n"
        # the relay passes the proof on, but it is bound to the address that answered: it is another program.
        # MCP still starts (the client keeps its tools); a tool that needs a link says what to do instead.
        async with mcp_client(stack, "stdio", mode="legacy", errlog=errlog) as client:
            assert "Demo_WhoAmI" in [tool.name for tool in (await client.list_tools()).tools]
            refused = await client.call_tool("Demo_WhoAmI", {})
        assert refused.is_error and not (refused.meta or {}).get("url")
        text = refused.content[0].text
        assert f"127.0.0.1:{stack.port}" in text and "Stop that program" in text
        assert "authmcp install claude-desktop --port N" in text and "http://127.0.0.1:N/oauth/callback" in text
        assert f"127.0.0.1:{stack.port} is used by another program" in log.read_text()
        assert "Traceback" not in log.read_text()
    finally:
        relay.kill()
        relay.wait()
        assert relay.stdout is not None
        relay.stdout.close()
