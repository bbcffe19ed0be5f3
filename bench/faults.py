"""kill -9 of a real `authmcp serve` (or of `authmcp keys rotate`) at chosen points, N times each, then a restart
on the same data directory. Prints, per scenario: trials, grants lost, flows left unresolved, and the worst
time to answer (the first call after the restart; for a callback, the long-poll on the orphaned flow).

The provider is the strict test provider (refresh tokens rotate; a reused one revokes the grant), behind the
fault proxy of the test suite; the deadline of every provider request is 2 s.

    .venv/bin/python bench/faults.py [-n 5]
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.e2e.conftest import Stack, authorize_in_browser, free_port  # noqa: E402
from tests.faults.conftest import API_KEY, DEADLINE, api_client, database, execute, kill_during  # noqa: E402
from tests.support.faultproxy import FaultProxy  # noqa: E402
from tests.support.fixtures import CLIENT_ID, CLIENT_SECRET  # noqa: E402
from tests.support.provider import AuthServer  # noqa: E402


def make_stack(tmp: Path) -> tuple[Stack, FaultProxy]:
    port = free_port()
    provider = AuthServer.start(clients=[(CLIENT_ID, CLIENT_SECRET, f"http://127.0.0.1:{port}/oauth/callback")])
    proxy = FaultProxy(provider.token_endpoint)
    settings = {
        "data_dir": str(tmp / "data"),
        "user_id": "local-user",
        "log_level": "WARNING",
        "toolkits": [],
        "http_timeout_seconds": DEADLINE,
        "connection_cache_seconds": 0,
        "api": {"keys": [API_KEY], "verification": "none"},
        "providers": {
            "demo": {
                "name": "Demo provider",
                "authorize_url": provider.authorization_endpoint,
                "token_url": proxy.url,
                "userinfo_url": provider.userinfo_endpoint,
                "revocation_url": provider.revocation_endpoint,
                "issuer": provider.issuer,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "scopes": ["openid"],
            }
        },
    }
    return Stack(tmp=tmp, port=port, provider=provider, settings=settings), proxy


async def until(condition: Any, timeout: float = 20) -> None:
    with anyio.fail_after(timeout):
        while not condition():
            await anyio.sleep(0.01)


async def connect(stack: Stack, http: httpx2.AsyncClient, user: str) -> None:
    answer = (await execute(http, user)).json()
    if not answer["success"]:
        await authorize_in_browser(stack.provider, answer["output"]["authorization"]["url"], user)


async def mid_refresh(stack: Stack, proxy: FaultProxy, trial: int) -> tuple[int, int, float]:
    """Killed while refreshing: before the request reached the provider (even trials), or after the provider
    answered and rotated the refresh token, its answer still in flight (odd trials: the inherent loss)."""
    process = stack.processes[-1]
    async with api_client(stack) as http:
        await connect(stack, http, "alice")
    with sqlite3.connect(database(stack)) as db:
        db.execute("update connections set expires_at = ?", (time.time() - 5,))
    proxy.fault, proxy.delay = ("slow", 30.0) if trial % 2 == 0 else ("trickle", 30.0)
    seen = proxy.forwarded if trial % 2 else proxy.requests

    async def call() -> None:
        async with api_client(stack) as http:
            await execute(http)

    await kill_during(process, call, lambda: (proxy.forwarded if trial % 2 else proxy.requests) > seen, 0.2)
    proxy.fault = "pass"
    stack.start_http()
    async with api_client(stack) as http:
        started = time.monotonic()
        answer = (await execute(http)).json()
        took = time.monotonic() - started
    return (0 if answer["success"] else 1), 0, took


async def mid_callback(stack: Stack, proxy: FaultProxy, trial: int) -> tuple[int, int, float]:
    """Killed mid-exchange of the callback: before the provider saw the code (even), or after (odd). The
    orphaned flow must resolve (its long-poll answers "failed"), and the user's next attempt connect."""
    process = stack.processes[-1]
    user = f"user-{trial}"
    async with api_client(stack) as http:
        authorization = (await execute(http, user)).json()["output"]["authorization"]
    proxy.fault, proxy.delay = ("slow", 30.0) if trial % 2 == 0 else ("trickle", 30.0)
    seen = proxy.forwarded if trial % 2 else proxy.requests
    async with httpx2.AsyncClient(timeout=60, trust_env=False) as browser:
        callback = await stack.provider.aconsent(browser, authorization["url"], user)
        await kill_during(
            process,
            lambda: browser.get(callback),
            lambda: (proxy.forwarded if trial % 2 else proxy.requests) > seen,
            0.2,
        )
    proxy.fault = "pass"
    stack.start_http()
    async with api_client(stack, timeout=70) as http:
        started = time.monotonic()
        status = (await http.get("/v1/auth/status", params={"id": authorization["id"], "wait": 59})).json()
        took = time.monotonic() - started
        await connect(stack, http, user)
        connected = (await execute(http, user)).json()["success"]
    return (0 if connected else 1), (0 if status["status"] in ("failed", "completed") else 1), took


async def mid_rotation(stack: Stack, proxy: FaultProxy, trial: int) -> tuple[int, int, float]:
    """`authmcp keys rotate` killed at a random point while the server serves; then run again and retired."""
    key_file = Path(stack.settings["data_dir"]) / "keys"
    before = key_file.read_text()
    command = [sys.executable, "-m", "mcp_server", "keys", "rotate", "--config", str(stack.config_path)]
    rotation = subprocess.Popen(command, env=stack.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    await until(lambda: key_file.read_text() != before or rotation.poll() is not None, timeout=60)
    await anyio.sleep(0.05 * (trial % 5))
    if rotation.poll() is None:
        rotation.send_signal(signal.SIGKILL)
        rotation.wait(10)
    async with api_client(stack) as http:
        started = time.monotonic()
        served = (await execute(http)).json()["success"]
        took = time.monotonic() - started
    subprocess.run(command, env=stack.env(), capture_output=True, check=True)
    subprocess.run([*command[:-3], "retire", *command[-2:]], env=stack.env(), capture_output=True, check=True)
    async with api_client(stack) as http:
        served = served and (await execute(http)).json()["success"]
    return (0 if served else 1), 0, took


async def many_rows(stack: Stack, n: int) -> None:
    from mcp_server.vault import open_vault

    vault = await open_vault(
        f"sqlite:///{database(stack)}", env_keys=[], key_file=Path(stack.settings["data_dir"]) / "keys"
    )
    try:
        async with vault.engine.begin() as conn:
            for i in range(n):
                await vault.save_connection(
                    f"bulk-{i}",
                    "demo",
                    access_token="a",
                    refresh_token="r",
                    token_type="Bearer",
                    expires_at=None,
                    scopes=["profile"],
                    conn=conn,
                )
    finally:
        await vault.aclose()


SCENARIOS = {"mid-refresh": mid_refresh, "mid-callback": mid_callback, "mid-rotation": mid_rotation}


async def run(n: int) -> list[tuple[str, int, int, int, float]]:
    table = []
    for name, scenario in SCENARIOS.items():
        with tempfile.TemporaryDirectory() as tmp:
            stack, proxy = make_stack(Path(tmp))
            try:
                stack.start_http()
                async with api_client(stack) as http:
                    await connect(stack, http, "alice")
                if name == "mid-rotation":
                    await many_rows(stack, 3000)
                lost = unresolved = 0
                worst = 0.0
                for trial in range(n):
                    a, b, took = await scenario(stack, proxy, trial)
                    lost, unresolved, worst = lost + a, unresolved + b, max(worst, took)
                table.append((name, n, lost, unresolved, worst))
            finally:
                stack.close()
                proxy.close()
                stack.provider.stop()
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=4, help="trials per scenario")
    args = parser.parse_args()
    rows = anyio.run(run, args.n)
    print(f"{'scenario':<14} {'trials':>6} {'grants lost':>12} {'flows unresolved':>17} {'worst answer':>13}")
    for name, trials, lost, unresolved, worst in rows:
        print(f"{name:<14} {trials:>6} {lost:>12} {unresolved:>17} {worst:>11.1f} s")


if __name__ == "__main__":
    main()
