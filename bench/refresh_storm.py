"""Refresh storm: N concurrent tool calls with an expired access token, spread over P authmcp processes that
share one SQLite database, against the strict test provider (refresh tokens rotate; a reused one revokes the
grant). Prints how many refresh requests reached the provider (the right answer is 1), how many calls
succeeded, and the wall time from the first call to the last answer.

    .venv/bin/python bench/refresh_storm.py [-n 100] [-p 2]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.e2e.conftest import free_port, write_config  # noqa: E402
from tests.support.fixtures import CLIENT_ID, CLIENT_SECRET  # noqa: E402
from tests.support.provider import AuthServer  # noqa: E402


def start_authmcp(config: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mcp_server",
            "serve",
            "--transport",
            "http",
            "--port",
            str(port),
            "--config",
            str(config),
            "--toolkit",
            str(REPO / "examples" / "whoami.py"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    for _ in range(300):
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx2.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"authmcp on port {port} did not start")


async def storm(ports: list[int], n: int) -> tuple[list[str], float]:
    errors: list[str] = []  # the text of every failed call

    async def one_process(port: int, count: int) -> None:
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            async with anyio.create_task_group() as tg:
                for _ in range(count):

                    async def call() -> None:
                        result = await client.call_tool("Demo_WhoAmI", {})
                        if result.is_error:
                            errors.append(" ".join(getattr(b, "text", "") for b in result.content)[:200])

                    tg.start_soon(call)

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for i, port in enumerate(ports):
            tg.start_soon(one_process, port, n // len(ports) + (i < n % len(ports)))
    return errors, time.perf_counter() - started


async def connect_once(provider: AuthServer, port: int) -> None:
    async with Client(f"http://127.0.0.1:{port}/mcp") as client:
        link = (await client.call_tool("Demo_WhoAmI", {})).meta["url"]  # type: ignore[index]
        async with httpx2.AsyncClient(timeout=10) as browser:
            callback = await provider.aconsent(browser, link, "alice")
            await browser.get(callback)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100, help="concurrent calls in all")
    parser.add_argument("-p", type=int, default=2, help="authmcp processes")
    args = parser.parse_args()
    ports = [free_port() for _ in range(args.p)]
    provider = AuthServer.start(
        clients=[(CLIENT_ID, CLIENT_SECRET, f"http://127.0.0.1:{p}/oauth/callback") for p in ports]
    )
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        config = write_config(
            Path(tmp) / "authmcp.toml",
            {
                "data_dir": tmp,
                "toolkits": [],
                "log_level": "WARNING",
                "connection_cache_seconds": 0,
                "providers": {
                    "demo": {
                        "authorize_url": provider.authorization_endpoint,
                        "token_url": provider.token_endpoint,
                        "userinfo_url": provider.userinfo_endpoint,
                        "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET,
                    }
                },
            },
        )
        env: dict[str, Any] = {**os.environ, "DEMO_USERINFO_URL": provider.userinfo_endpoint}
        try:
            processes = [start_authmcp(config, port, env) for port in ports]
            anyio.run(connect_once, provider, ports[0])
            with sqlite3.connect(Path(tmp) / "authmcp.db") as db:
                db.execute("update connections set expires_at = ?", (time.time() - 5,))
            provider.reset_stats()
            errors, seconds = anyio.run(storm, ports, args.n)
            refreshes = provider.stats()["token_requests"]["refresh_token"]
        finally:
            for process in processes:
                process.terminate()
                process.wait(10)
            provider.stop()
    print(f"{args.n} concurrent calls over {args.p} processes with an expired token")
    print(f"upstream refresh requests: {refreshes}")
    print(f"calls that succeeded:      {args.n - len(errors)}/{args.n}")
    print(f"wall time:                 {seconds * 1000:.0f} ms")
    for text in sorted(set(errors)):
        print(f"  {errors.count(text)} failed with: {text}")


if __name__ == "__main__":
    main()
