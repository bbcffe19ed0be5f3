"""Servers for the benchmarks, each in its own process: a bare `MCPServer` and `authmcp serve --transport http`.

Both serve the same tool, `echo(text) -> text`; authmcp's requires OAuth (`OAuth2(id="demo")`) and every bench
user has a fresh stored connection, so each call takes the gate's fast path. authmcp runs with bearer auth on:
static tokens (`[mcp_auth] tokens`) or JWTs from `JwtIssuer`, a small issuer this process runs (its JWKS served on
loopback). Only stable interfaces are used: the CLI, the configuration file, the vault API for seeding.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2

from mcp_server.config import load_settings
from mcp_server.serving.runtime import Runtime, open_runtime
from mcp_server.vault import generate_key, open_vault
from tests.support.ports import free_port

TOOLKIT = '''
from mcp_server import ToolContext, tool
from mcp_server.auth import OAuth2

TOOLKIT_NAME = "Bench"


@tool(requires_auth=OAuth2(id="demo", scopes=["profile"]))
async def echo(context: ToolContext, text: str) -> str:
    """Return the text."""
    return text
'''
BARE = '''
import sys, uvicorn
from mcp.server.mcpserver import MCPServer

server = MCPServer("bare", log_level="WARNING")

@server.tool()
async def echo(text: str) -> str:
    """Return the text."""
    return text

uvicorn.run(server.streamable_http_app(host="127.0.0.1"), host="127.0.0.1", port=int(sys.argv[1]),
            log_level="warning", access_log=False)
'''
PROVIDER = {
    "authorize_url": "http://127.0.0.1:9/a",
    "token_url": "http://127.0.0.1:9/t",
    "client_id": "c",
    "client_secret": "s",
}
DEFAULT_POSTGRES = os.environ.get("AUTHMCP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc, so it works on any process we started)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()  # the command name may hold spaces; fields follow ")"
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime: fields 14 and 15 of stat(5)


@dataclass
class Server:
    """A running server process and what a client needs to call its tool."""

    name: str
    process: subprocess.Popen[bytes]
    url: str  # http://127.0.0.1:<port>/mcp
    tool: str
    tokens: list[str] = field(default_factory=list)  # one bearer token per user; empty: no authentication

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def target(self, user: int, era: str) -> dict[str, str]:
        """What the load generator needs to call as `user` (see loadgen.py)."""
        return {
            "url": self.url,
            "tool": self.tool,
            "era": era,
            "token": self.tokens[user % len(self.tokens)] if self.tokens else "",
        }


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            httpx2.get(url, timeout=1, trust_env=False)
            return
        except httpx2.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server did not answer at {url} within 60 s")


@contextmanager
def _running(
    command: list[str], health_url: str, log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=out, env=env)
    try:
        _wait_healthy(process, health_url, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def bare_server(work: Path) -> Iterator[Server]:
    """A plain `MCPServer` with `echo` on Streamable HTTP, no authentication."""
    work.mkdir(parents=True, exist_ok=True)
    script = work / "bare_server.py"
    script.write_text(BARE)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with _running([sys.executable, str(script), str(port)], url, work / "bare.log") as process:
        yield Server("bare", process, url, "echo")


def _toml(value: object) -> str:
    return json.dumps(value)  # strings, numbers and lists of strings: JSON's spelling is TOML's


def _config_text(settings: dict[str, object], tables: dict[str, dict[str, object]]) -> str:
    lines = [f"{key} = {_toml(value)}" for key, value in settings.items()]
    for table, values in tables.items():
        lines.append(f"\n[{table}]")
        lines += [f"{_toml(str(key))} = {_toml(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


async def seed_connections(database_url: str, key: str, users: list[str], key_file: Path) -> None:
    """A fresh stored connection (valid for 2 hours) for each user, through the vault API."""
    vault = await open_vault(database_url, env_keys=[key], key_file=key_file)
    try:
        for user in users:
            await vault.save_connection(
                user,
                "demo",
                access_token=f"access-{user}",
                refresh_token="bench-refresh",
                token_type="Bearer",
                expires_at=time.time() + 7200,
                scopes=["profile"],
            )
    finally:
        await vault.aclose()


@asynccontextmanager
async def authmcp_server(
    work: Path, database_url: str, users: int, *, name: str = "authmcp", issuer: JwtIssuer | None = None
) -> AsyncIterator[Server]:
    """`authmcp serve --transport http` with `users` users, each with a stored connection and a bearer token:
    a static token (`[mcp_auth] tokens`), or with `issuer` a JWT it signed (`jwt_issuer` + `jwks_url`)."""
    work.mkdir(parents=True, exist_ok=True)
    toolkit = work / "bench_toolkit.py"
    toolkit.write_text(TOOLKIT)
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    user_ids = [f"user-{i}-{secrets.token_hex(3)}@example.test" for i in range(users)]
    if issuer is None:
        tokens = [f"tok-{i}-{secrets.token_hex(12)}" for i in range(users)]
        auth_table, mcp_auth = "mcp_auth.tokens", dict(zip(tokens, user_ids))
    else:
        tokens = [issuer.mint(user, audience=f"{public_url}/mcp") for user in user_ids]
        auth_table, mcp_auth = (
            "mcp_auth",
            {"jwt_issuer": issuer.issuer, "jwks_url": issuer.jwks_url, "audience": f"{public_url}/mcp"},
        )
    key = generate_key()
    config = work / "authmcp.toml"
    config.write_text(
        _config_text(
            {
                "database_url": database_url,
                "data_dir": str(work / "data"),
                "encryption_keys": key,
                "toolkits": [],
                "log_level": "WARNING",
                "public_url": public_url,
            },
            {auth_table: mcp_auth, "api": {"verification": "none"}, "providers.demo": PROVIDER},
        )
    )
    await seed_connections(database_url, key, user_ids, work / "unused.key")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHMCP_")}
    command = [
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
        str(toolkit),
    ]
    with _running(command, f"{public_url}/healthz", work / "authmcp.log", env) as process:
        yield Server(name, process, f"{public_url}/mcp", "Bench_Echo", tokens)


@asynccontextmanager
async def in_process_runtime(user: str) -> AsyncIterator[tuple[Runtime, str]]:
    """authmcp opened in this process (`open_runtime`, SQLite in a temporary folder) serving the bench's echo,
    with a fresh stored connection for `user`; yields the runtime and the tool's MCP name."""
    with tempfile.TemporaryDirectory() as tmp:
        toolkit = Path(tmp, "bench_toolkit.py")
        toolkit.write_text(TOOLKIT)
        settings = load_settings(
            None, data_dir=tmp, user_id=user, toolkits=[], log_level="WARNING", providers={"demo": PROVIDER}
        )
        async with open_runtime(settings, public_url="http://127.0.0.1:8000", toolkits=[str(toolkit)]) as runtime:
            await runtime.vault.save_connection(
                user,
                "demo",
                access_token="bench-access",
                refresh_token="bench-refresh",
                token_type="Bearer",
                expires_at=time.time() + 3600,
                scopes=["profile"],
            )
            yield runtime, next(iter(runtime.catalog)).mcp_name


@asynccontextmanager
async def postgres_database(admin_url: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL database on the server at `admin_url`, dropped afterwards; yields its URL."""
    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"authmcp_bench_{secrets.token_hex(4)}"
    plain = make_url(admin_url).set(drivername="postgresql")
    admin = await asyncpg.connect(plain.render_as_string(hide_password=False))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield plain.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


class JwtIssuer:
    """A minimal identity provider: an RSA key, RS256 JWTs for any subject, its JWKS served on loopback."""

    def __init__(self) -> None:
        from joserfc.jwk import KeySet, RSAKey

        self._key = RSAKey.generate_key(2048, parameters={"kid": "bench", "use": "sig", "alg": "RS256"})
        jwks = json.dumps(KeySet([self._key]).as_dict(private=False)).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(jwks)))
                self.end_headers()
                self.wfile.write(jwks)

            def log_message(self, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self._http.server_address[1]}"
        self.jwks_url = f"{self.issuer}/jwks.json"
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def mint(self, subject: str, *, audience: str, lifetime: float = 3 * 3600) -> str:
        from joserfc import jwt

        now = int(time.time())
        claims = {"iss": self.issuer, "sub": subject, "aud": audience, "iat": now, "exp": now + int(lifetime)}
        return jwt.encode({"alg": "RS256", "kid": "bench"}, claims, self._key)

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()
