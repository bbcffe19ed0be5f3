"""Other programs on the same machine playing authmcp to its own processes: datagrams forged to the ports where
the processes hear "a flow finished".

Every server is a real `authmcp serve --transport stdio` process on one data dir.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import anyio
import pytest

from tests.e2e.clients import CompletionNotices, mcp_client, url_elicitation_required
from tests.e2e.conftest import Stack, authorize_in_browser
from tests.e2e.test_shared_pages import assert_profile, pages_answer, start_stdio, stop, until

pytestmark = pytest.mark.anyio


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


def server_pids(stack: Stack) -> set[int]:
    """The authmcp processes listening for notices on the stack's database (their entries in the notices dir)."""
    directory = Path(stack.settings["data_dir"]) / ".authmcp.db.notices"
    return {int(entry.name.split("-")[0]) for entry in directory.iterdir()}


def notice_ports(stack: Stack, pid: int) -> list[int]:
    directory = Path(stack.settings["data_dir"]) / ".authmcp.db.notices"
    return [int(entry.read_text()) for entry in directory.iterdir() if entry.name.startswith(f"{pid}-")]


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

