"""Real processes for end-to-end tests: `authmcp serve` as a subprocess, beside the test provider."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx2
import pytest

from mcp_server.vault import open_vault
from tests.conftest import REPO
from tests.support.fixtures import CLIENT_ID, CLIENT_SECRET, AuthServerFactory
from tests.support.ports import free_port
from tests.support.provider import AuthServer

WHOAMI = str(REPO / "examples" / "whoami.py")
SIGN_IN_CLIENT_ID = "authmcp-sign-in"  # authmcp's own client at the issuer, for [api] verification = "idp"
SIGN_IN_CLIENT_SECRET = "sign-in-secret"
FRONT_DOOR_CLIENT_ID = "authmcp-front-door"  # authmcp's own client at the provider people sign in with
FRONT_DOOR_CLIENT_SECRET = "front-door-secret"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def write_config(path: Path, settings: dict[str, Any]) -> Path:
    """A TOML file: top-level scalars first, then one table per dict value."""
    lines = [f"{k} = {toml_value(v)}" for k, v in settings.items() if not isinstance(v, dict)]
    for table, values in settings.items():
        if isinstance(values, dict):
            nested = {k: v for k, v in values.items() if isinstance(v, dict) and table == "providers"}
            if nested:
                for sub, sub_values in nested.items():
                    lines.append(f"\n[{table}.{sub}]")
                    lines += [f"{k} = {toml_value(v)}" for k, v in sub_values.items()]
            else:
                lines.append(f"\n[{table}]")
                lines += [
                    f"{toml_value(str(k)) if not str(k).isidentifier() else k} = {toml_value(v)}"
                    for k, v in values.items()
                ]
    path.write_text("\n".join(lines) + "\n")
    return path


def stop_detached(*words: str) -> None:
    """Stop the processes (not children of ours: started in a session of their own) whose command line holds
    every one of `words`, and wait until each is gone."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
        except OSError:  # gone already, or not ours to read
            continue
        if all(word in cmdline for word in words):
            found.append(int(entry.name))
    for pid in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for pid in found:
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # polling its exit: it is not our child, so it cannot be waited on
        if Path(f"/proc/{pid}").exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@dataclass
class Stack:
    """One test's world: the provider, authmcp's configuration and where it will listen."""

    tmp: Path
    port: int
    provider: AuthServer
    settings: dict[str, Any] = field(default_factory=dict)
    replica_ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[IO[bytes]] = field(default_factory=list)

    def replica(self, index: int) -> Stack:
        """Another authmcp process on the same configuration and database, on its own port."""
        return dataclasses.replace(self, port=self.replica_ports[index])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return write_config(self.tmp / "authmcp.toml", self.settings)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHMCP_")}
        env.update(DEMO_USERINFO_URL=self.provider.userinfo_endpoint, PYTHONUNBUFFERED="1", **extra)
        return env

    def serve_args(self, transport: str, *extra: str) -> list[str]:
        return [
            "-m",
            "mcp_server",
            "serve",
            "--transport",
            transport,
            "--port",
            str(self.port),
            "--config",
            str(self.config_path),
            "--toolkit",
            WHOAMI,
            *extra,
        ]

    def start_http(self, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = tempfile.TemporaryFile()
        process = subprocess.Popen(
            [sys.executable, *self.serve_args("http", *extra)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env or self.env(),
        )
        self.processes.append(process)
        self.logs.append(log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"authmcp exited with {process.returncode}:\n{self.output()}")
            try:
                if httpx2.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return process
            except httpx2.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"authmcp did not start:\n{self.output()}")

    def output(self) -> str:
        """Everything the authmcp processes printed so far (stdout and stderr)."""
        text = []
        for log in self.logs:
            log.seek(0)
            text.append(log.read().decode(errors="replace"))
        return "\n".join(text)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        # A stdio process that exits while a flow waits hands its pages to a detached `authmcp keep-pages`,
        # which would outlive the test: stop those started on this test's configuration too.
        stop_detached("keep-pages", str(self.tmp.resolve()))

    def close(self) -> None:
        self.stop()
        for log in self.logs:
            log.close()


@pytest.fixture
def stack_factory(tmp_path: Path, auth_server_factory: AuthServerFactory) -> Iterator[Any]:
    stacks: list[Stack] = []

    def make(*, provider_options: dict[str, Any] | None = None, replicas: int = 0, **settings: Any) -> Stack:
        port = free_port()
        replica_ports = [free_port() for _ in range(replicas)]
        callbacks = [f"http://127.0.0.1:{p}/oauth/callback" for p in (port, *replica_ports)]
        options = dict(provider_options or {})
        if options.pop("sign_in_client", False):  # the provider also plays the issuer authmcp signs users in at
            options["extra_clients"] = [
                (SIGN_IN_CLIENT_ID, SIGN_IN_CLIENT_SECRET, f"http://127.0.0.1:{p}/oauth/verify")
                for p in (port, *replica_ports)
            ]
        if options.pop("front_door_client", False):  # people sign in at the provider ([front_door] sign_in)
            options["extra_clients"] = [
                *options.get("extra_clients", []),
                *(
                    (FRONT_DOOR_CLIENT_ID, FRONT_DOOR_CLIENT_SECRET, f"http://127.0.0.1:{p}/sign-in/callback")
                    for p in (port, *replica_ports)
                ),
            ]
        provider = auth_server_factory(callbacks, **options)
        base = {
            "data_dir": str(tmp_path / f"data-{port}"),
            "user_id": "local-user",
            "log_level": "INFO",
            "toolkits": [],
            "http_timeout_seconds": 3,
            "flow_wait_seconds": 10,
            "providers": {
                "demo": {
                    "name": "Demo provider",
                    "authorize_url": provider.authorization_endpoint,
                    "token_url": provider.token_endpoint,
                    "userinfo_url": provider.userinfo_endpoint,
                    "revocation_url": provider.revocation_endpoint,
                    "issuer": provider.issuer,
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "scopes": ["openid"],
                }
            },
        }
        base.update(settings)
        stack = Stack(tmp=tmp_path, port=port, provider=provider, settings=base, replica_ports=replica_ports)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.close()


@pytest.fixture
def stack(stack_factory: Any) -> Stack:
    return stack_factory()


async def authorize_in_browser(provider: AuthServer, connect_url: str, username: str) -> httpx2.Response:
    """What a person does: open the link, sign in and allow at the provider, land back on authmcp's page."""
    async with httpx2.AsyncClient(timeout=15, trust_env=False) as browser:
        callback = await provider.aconsent(browser, connect_url, username)
        answer = await browser.get(callback)
        if answer.status_code != 303:
            return answer
        return await browser.get(answer.url.join(answer.headers["location"]))


def mcp_url(stack: Stack, transport: str) -> str:
    return f"{stack.base_url}/mcp" if transport == "http" else f"{stack.base_url}/sse"


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def texts(result: Any) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


def assert_clean(text: str, secrets: Sequence[str]) -> None:
    for secret in secrets:
        assert secret not in text, "a secret value leaked"


async def stored_tokens(stack: Stack, user: str, provider_id: str = "demo") -> tuple[str, str | None]:
    """The (access, refresh) tokens authmcp stored for the user at the provider, decrypted with its key file."""
    data_dir = Path(stack.settings["data_dir"])
    vault = await open_vault(f"sqlite:///{data_dir / 'authmcp.db'}", env_keys=[], key_file=data_dir / "keys")
    try:
        connection = await vault.get_connection(user, provider_id)
    finally:
        await vault.aclose()
    assert connection is not None
    return connection.access_token, connection.refresh_token
