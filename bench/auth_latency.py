"""Long-poll wake-up: how soon `GET /v1/auth/status?wait=59` answers once the provider's callback lands.

Starts the test provider and one `authmcp serve --transport http`, then for each of N flows (a new user
each): `POST /v1/auth/authorize`, the person's consent at the provider, a long-poll `status?wait=59` already
waiting in authmcp, and the callback. Prints median and p90 of the time from just before the browser sends
the callback to the long-poll's answer (the code exchange, storing the tokens and the wake-up), and of the
time from the browser receiving the callback's answer to the long-poll's (the wake-up alone; negative when
the long-poll answers first).

    .venv/bin/python bench/auth_latency.py [-n 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx2

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.e2e.conftest import free_port, write_config  # noqa: E402
from tests.support.fixtures import CLIENT_ID, CLIENT_SECRET  # noqa: E402
from tests.support.provider import AuthServer  # noqa: E402

API_KEY = "ak-bench-auth-latency"
WAIT = 59


def start_authmcp(config: Path, port: int) -> subprocess.Popen[bytes]:
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
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    for _ in range(300):
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1, trust_env=False).status_code == 200:
                return process
        except httpx2.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"authmcp on port {port} did not start")


async def one_flow(
    api: httpx2.AsyncClient, browser: httpx2.AsyncClient, provider: AuthServer, user: str
) -> tuple[float, float]:
    """(callback sent -> long-poll answered, callback answered -> long-poll answered), in seconds."""
    started = await api.post(
        "/v1/auth/authorize",
        json={
            "auth_requirement": {"provider_id": "demo", "oauth2": {"scopes": ["profile"]}},
            "user_id": user,
        },
    )
    authorization = started.json()
    callback = await provider.aconsent(browser, authorization["url"], user)
    answered_at: list[float] = []

    async def long_poll() -> None:
        answer = await api.get("/v1/auth/status", params={"id": authorization["id"], "wait": str(WAIT)})
        answered_at.append(time.perf_counter())
        if answer.json()["status"] != "completed":
            raise SystemExit(f"flow for {user} ended {answer.json()['status']}, not completed")

    async with anyio.create_task_group() as tg:
        tg.start_soon(long_poll)
        await anyio.sleep(0.2)  # the long-poll is waiting inside authmcp by now
        sent = time.perf_counter()
        landed = await browser.get(callback)
        received = time.perf_counter()
        if landed.status_code != 303:
            raise SystemExit(f"callback answered HTTP {landed.status_code}")
    return answered_at[0] - sent, answered_at[0] - received


async def run(base_url: str, provider: AuthServer, n: int) -> list[tuple[float, float]]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with (
        httpx2.AsyncClient(base_url=base_url, headers=headers, timeout=WAIT + 10, trust_env=False) as api,
        httpx2.AsyncClient(timeout=15, trust_env=False) as browser,
    ):
        return [await one_flow(api, browser, provider, f"user-{i}") for i in range(n)]


def describe(label: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[min(len(ms) - 1, round(0.9 * (len(ms) - 1)))]
    return f"{label}: median {statistics.median(ms):.2f} ms, p90 {p90:.2f} ms, max {ms[-1]:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=50, help="authorization flows")
    args = parser.parse_args()
    port = free_port()
    provider = AuthServer.start(clients=[(CLIENT_ID, CLIENT_SECRET, f"http://127.0.0.1:{port}/oauth/callback")])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = write_config(
                Path(tmp) / "authmcp.toml",
                {
                    "data_dir": tmp,
                    "toolkits": [],
                    "log_level": "WARNING",
                    "api": {"keys": [API_KEY], "verification": "none"},
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
            process = start_authmcp(config, port)
            try:
                results = anyio.run(run, f"http://127.0.0.1:{port}", provider, args.n)
            finally:
                process.terminate()
                process.wait(10)
    finally:
        provider.stop()
    print(f"{args.n} flows, each with a status?wait={WAIT} long-poll waiting when the callback lands")
    print(describe("callback sent     -> long-poll answered", [sent for sent, _ in results]))
    print(describe("callback answered -> long-poll answered", [received for _, received in results]))


if __name__ == "__main__":
    main()
