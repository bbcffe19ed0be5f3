"""Several MCP clients on one machine, one data dir: one set of authorization pages, links that outlive
the process that handed them out, and waiters that wake as soon as a flow finishes in another process.

Every server here is a real `authmcp serve --transport stdio` process with `--port` set to the same free port.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import IO, Any

import anyio
import httpx2
import pytest
from mcp.client.session import ClientRequestContext
from mcp_types import ElicitRequestParams, ElicitRequestURLParams, ElicitResult

from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, authorize_in_browser, stored_tokens, texts
from tests.support.waiting import finish_once_waiting, log_text

pytestmark = pytest.mark.anyio


@pytest.fixture
def logs() -> Iterator[Any]:
    files: list[IO[str]] = []

    def make() -> IO[str]:
        files.append(tempfile.TemporaryFile("w+"))
        return files[-1]

    yield make
    for f in files:
        f.close()


def read(log: IO[str]) -> str:
    log.flush()
    log.seek(0)
    return log.read()


def pages_answer(stack: Stack) -> bool:
    try:
        return httpx2.get(f"{stack.base_url}/healthz", timeout=1, trust_env=False).status_code == 200
    except httpx2.TransportError:
        return False


async def until(condition: Any, what: str, timeout: float = 30) -> None:
    with anyio.fail_after(timeout):
        while not await anyio.to_thread.run_sync(condition):
            await anyio.sleep(0.1)


def start_stdio(stack: Stack, log: IO[str]) -> subprocess.Popen[bytes]:
    """A stdio server whose client never speaks: it holds the pages' port, as Claude Desktop's would."""
    return subprocess.Popen(
        [sys.executable, *stack.serve_args("stdio")],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=log,
        env=stack.env(),
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()
    assert process.stdin is not None
    process.stdin.close()


def assert_profile(result: Any, username: str) -> None:
    assert not result.is_error, texts(result)
    assert result.structured_content["provider_profile"]["sub"] == username


async def test_a_second_client_gets_links_to_the_first_ones_pages_and_wakes_when_the_flow_finishes_there(
    stack_factory: Any, logs: Any
) -> None:
    stack = stack_factory(flow_wait_seconds=120, log_level="DEBUG", http_timeout_seconds=10)  # finish_once_waiting
    first_log, second_log = logs(), logs()
    links: list[str] = []
    answered = anyio.Event()
    async with anyio.create_task_group() as browser:

        async def accept_and_open(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
            assert isinstance(params, ElicitRequestURLParams)
            links.append(params.url)

            async def person() -> None:  # once the second process waits on the flow; the first one's notice wakes it
                page = await authorize_in_browser(stack.provider, params.url, "alice")
                assert page.status_code == 200 and "Connected to Demo provider" in page.text

            flow_id = params.url.rsplit("/", 1)[-1]
            browser.start_soon(finish_once_waiting, partial(log_text, second_log), flow_id, person, answered)
            return ElicitResult(action="accept")

        async with mcp_client(stack, "stdio", errlog=first_log) as first:
            await first.list_tools()
            await until(lambda: pages_answer(stack), "the first process serves the pages")
            async with mcp_client(stack, "stdio", elicitation_callback=accept_and_open, errlog=second_log) as second:
                result = await second.call_tool("Demo_WhoAmI", {})
                answered.set()
                assert_profile(result, "alice")
            assert_profile(await first.call_tool("Demo_WhoAmI", {}), "alice")  # one vault for both
    assert links and links[0].startswith(f"{stack.base_url}/connect/")
    first_text, second_text = read(first_log), read(second_log)
    assert "served by another authmcp" in second_text
    assert "connected to demo" in first_text and "connected to demo" not in second_text  # the callback landed there
    for text in (first_text, second_text):
        assert "Traceback" not in text and " ERROR " not in text


async def test_when_the_pages_holder_is_killed_another_process_takes_the_port_over(
    stack_factory: Any, logs: Any
) -> None:
    stack = stack_factory()
    holder = start_stdio(stack, logs())
    try:
        await until(lambda: pages_answer(stack), "the holder serves the pages")
        second_log = logs()
        async with mcp_client(stack, "stdio", mode="legacy", errlog=second_log) as second:
            await second.list_tools()
            holder.kill()
            holder.wait()
            await until(lambda: pages_answer(stack), "the second process serves the pages")
            first = await second.call_tool("Demo_WhoAmI", {})
            assert first.is_error and first.meta["url"].startswith(f"{stack.base_url}/connect/")
            page = await authorize_in_browser(stack.provider, first.meta["url"], "bob")
            assert page.status_code == 200
            assert_profile(await second.call_tool("Demo_WhoAmI", {}), "bob")
        assert "serving them here now" in read(second_log)
    finally:
        stop(holder)


async def test_a_one_shot_clients_link_works_after_it_left_and_nothing_stays_once_the_flow_is_done(
    stack_factory: Any, logs: Any
) -> None:
    stack = stack_factory()
    log = logs()
    async with mcp_client(stack, "stdio", mode="legacy", errlog=log) as client:
        first = await client.call_tool("Demo_WhoAmI", {})
        url = first.meta["url"]
    # The client closed stdin, waited and then killed the server's process group: like the Inspector's CLI.
    page = await authorize_in_browser(stack.provider, url, "carol")
    assert page.status_code == 200 and "Connected to Demo provider" in page.text
    access, _ = await stored_tokens(stack, "local-user")
    assert access
    await until(lambda: not pages_answer(stack), "the detached pages stop once no flow waits", timeout=30)
    kept = (Path(stack.settings["data_dir"]) / "pages.log").read_text()
    assert "no flow waits for a browser any more" in kept and "Traceback" not in kept
    assert "Traceback" not in read(log)


async def test_a_client_that_leaves_with_no_flow_pending_leaves_nothing_behind(stack_factory: Any, logs: Any) -> None:
    stack = stack_factory()
    async with mcp_client(stack, "stdio", errlog=logs()) as client:
        await client.list_tools()
        await until(lambda: pages_answer(stack), "the process serves the pages")
    assert not pages_answer(stack)
    assert not (Path(stack.settings["data_dir"]) / "pages.log").exists()


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
async def test_a_signal_stops_a_stdio_server_at_once_without_a_traceback(
    stack_factory: Any, logs: Any, signal_name: str
) -> None:
    stack = stack_factory()
    log = logs()
    server = start_stdio(stack, log)
    try:
        await until(lambda: pages_answer(stack), "the server serves the pages")
        server.send_signal(getattr(signal, signal_name))
        # stdin stays open: the process must not wait for its client to go
        assert await anyio.to_thread.run_sync(lambda: server.wait(10)) == 0
    finally:
        stop(server)
    text = read(log)
    assert f"{signal_name}: stopping" in text and "Traceback" not in text
