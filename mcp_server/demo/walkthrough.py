"""`authmcp demo`: the whole path of an authorized tool call on one computer, with no account anywhere.

1. a local OAuth 2.0 provider (authserver.py) on a free port, standing in for Google or GitHub;
2. authmcp over Streamable HTTP on another free port, with the demo toolkit, in this process, on a throwaway
   data dir;
3. an MCP client calling `Demo_WhoAmI`: "authorization required" and a link;
4. the person opens the link (in their browser, opened for them where there is one), signs in with any name
   and allows;
5. the same call again: the provider's answer about that person, fetched with their token;
6. once more: no link this time, the stored token is used. It then stays up, so the person can see the
   connection on "Your connections" (and revoke it), until they press Enter (or stdin ends).

Everything it started stops when it ends or on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import webbrowser
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from pydantic import SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from mcp_server._http import httpx2
from mcp_server.config import ProviderSettings, Settings
from mcp_server.errors import AuthmcpError
from mcp_server.serving.listeners import QuietServer
from mcp_server.serving.runtime import Runtime, open_runtime
from mcp_server.serving.shared_pages import bind
from mcp_server.serving.web_app import create_http_app, on_a_socket

__all__ = ["DemoError", "run_demo"]

CLIENT_ID = "authmcp-demo"
TOOL = "Demo_WhoAmI"
_PROVIDER_START_SECONDS = 30.0

Echo = Callable[[str], None]


class DemoError(AuthmcpError):
    """The demo could not start a part of itself."""


class _DemoSettings(Settings):
    """Only what the demo passes: no configuration file, none of the user's AUTHMCP_* variables."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


@contextlib.asynccontextmanager
async def _provider(redirect_uri: str, client_secret: str, folder: Path) -> AsyncIterator[str]:
    """The demo provider in a subprocess; yields its URL; stops it on exit (it also exits if we die)."""
    command = [
        sys.executable,
        "-m",
        "mcp_server.demo.authserver",
        "--port",
        "0",
        "--client",
        f"{CLIENT_ID}:{client_secret}:{redirect_uri}",
        "--exit-on-stdin-eof",
    ]
    with open(folder / "provider.log", "wb") as log:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
    try:
        assert process.stdout is not None
        line = ""
        with anyio.move_on_after(_PROVIDER_START_SECONDS):
            line = (await anyio.to_thread.run_sync(process.stdout.readline, abandon_on_cancel=True)).decode().strip()
        if not line.startswith("READY http://"):
            raise DemoError("The demo provider did not start. Run `authmcp demo` again.")
        yield line.removeprefix("READY ")
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)
        if process.poll() is None:
            process.kill()
            process.wait()


def _has_browser() -> bool:
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _text(result: Any) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


async def run_demo(*, open_browser: bool, echo: Echo) -> dict[str, Any] | None:
    """Run the walk-through, telling the person each step with `echo`; the tool's final answer, or None when
    stopped by a signal.

    Raises:
        DemoError: A part of the demo could not start or did not behave.
    """
    with tempfile.TemporaryDirectory(prefix="authmcp-demo-") as folder:
        sock = bind("127.0.0.1", 0)
        try:
            base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            client_secret = secrets.token_urlsafe(16)
            echo("authmcp demo: everything runs on this computer, with no account anywhere. Ctrl-C stops it all.\n")
            async with _provider(f"{base_url}/oauth/callback", client_secret, Path(folder)) as provider_url:
                echo(
                    f"[1/6] Started a local OAuth 2.0 provider at {provider_url} (it stands in for Google, GitHub...)."
                )
                settings = _DemoSettings(
                    public_url=base_url,
                    data_dir=Path(folder) / "data",
                    user_id="demo-user",
                    log_level="WARNING",
                    toolkits=["mcp_server.demo.toolkit"],
                    flow_wait_seconds=0,
                    providers={
                        "demo": ProviderSettings(
                            name="Demo provider",
                            authorize_url=f"{provider_url}/authorize",
                            token_url=f"{provider_url}/token",
                            userinfo_url=f"{provider_url}/userinfo",
                            revocation_url=f"{provider_url}/revoke",
                            issuer=provider_url,
                            client_id=CLIENT_ID,
                            client_secret=SecretStr(client_secret),
                            scopes=["openid"],
                        )
                    },
                    toolkit_settings={"demo": {"userinfo_url": f"{provider_url}/userinfo"}},
                )
                async with open_runtime(settings, public_url=base_url) as runtime:
                    return await _serve_and_call(runtime, sock, base_url, open_browser, echo)
        finally:
            sock.close()


async def _serve_and_call(
    runtime: Runtime, sock: socket.socket, base_url: str, open_browser: bool, echo: Echo
) -> dict[str, Any] | None:
    server = QuietServer.for_app(on_a_socket(create_http_app(runtime), runtime), "WARNING")
    answer: dict[str, Any] | None = None
    failure: DemoError | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(functools.partial(server.serve, sockets=[sock]))
        async with anyio.create_task_group() as work:
            work.start_soon(_stop_on_signal, work.cancel_scope, echo)
            echo(f"[2/6] Started authmcp at {base_url}/mcp with the demo toolkit (tool {TOOL}).")
            try:
                answer = await _client_side(base_url, runtime, open_browser, echo)
                echo(
                    f"\nauthmcp stays up so you can look around: open {base_url}/connections to see the connection "
                    f"(and Revoke it). Press Enter to stop."
                )
                await anyio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)  # Enter, or stdin ends
            except* DemoError as raised:  # the client's task group wraps it: raised alone once all is stopped
                failure = _first(raised)
            work.cancel_scope.cancel()
        server.should_exit = True  # a graceful stop: a cancelled uvicorn logs a traceback
    if failure is not None:
        raise failure
    return answer


def _first(group: BaseExceptionGroup[DemoError]) -> DemoError:
    found = group.exceptions[0]
    return _first(found) if isinstance(found, BaseExceptionGroup) else found


async def _stop_on_signal(scope: anyio.CancelScope, echo: Echo) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            echo("\nStopping the demo: authmcp and the provider are shut down, its data deleted.")
            scope.cancel()
            return


async def _client_side(base_url: str, runtime: Runtime, open_browser: bool, echo: Echo) -> dict[str, Any]:
    async with httpx2.AsyncClient(timeout=30, trust_env=False) as http:
        async with Client(streamable_http_client(f"{base_url}/mcp", http_client=http), mode="legacy") as client:
            first = await client.call_tool(TOOL, {})
            if not first.is_error or not first.meta or "url" not in first.meta:
                raise DemoError(f"{TOOL} did not ask for authorization: {_text(first)}")
            url = first.meta["url"]
            echo(f"[3/6] Called {TOOL}. Its answer:\n      {_text(first)}")
            if open_browser and _has_browser() and webbrowser.open(url):
                echo(f"[4/6] Opened the link in your browser. If nothing opened, open it yourself:\n      {url}")
            else:
                echo(f"[4/6] Open this link in a browser on this computer:\n      {url}")
            echo("      At the provider, type any name and press Allow. Waiting for you...")
            flow = await runtime.service.flows.wait(first.meta["flow_id"], timeout=runtime.settings.flow_ttl_seconds)
            if flow is None or flow.status != "completed":
                raise DemoError(f"The authorization did not complete ({flow.error if flow else 'unknown link'}).")
            second = await client.call_tool(TOOL, {})
            if second.is_error:
                raise DemoError(f"{TOOL} failed after the authorization: {_text(second)}")
            answer: dict[str, Any] = second.structured_content or {}
            echo(f"[5/6] Called {TOOL} again. It now answers with who you are at the provider:\n")
            echo(json.dumps(answer, indent=2))
            echo(
                "\nThat is an authorized tool call: the token is stored encrypted by authmcp, never shown to the model."
            )
            third = await client.call_tool(TOOL, {})
            if third.is_error or (third.meta or {}).get("url"):
                raise DemoError(f"{TOOL} asked again after the authorization: {_text(third)}")
            echo(f"[6/6] Called {TOOL} once more: it answered at once, with no link, from the stored connection.")
            return answer
