"""Run the strict test provider (mcp_server/demo/authserver.py, shipped for `authmcp demo`) in a subprocess and drive
it from tests.

    server = AuthServer.start(clients=[("authmcp-test", "test-secret", "http://127.0.0.1:8000/oauth/callback")])
    try:
        callback = server.consent(http_client, authorize_url, "alice")
    finally:
        server.stop()

`AuthServer` is also a context manager that stops the server on exit.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx2

__all__ = ["AUTHSERVER_SCRIPT", "AuthServer", "AuthServerError"]

_SPEC = importlib.util.find_spec("mcp_server.demo.authserver")
assert _SPEC is not None and _SPEC.origin is not None
AUTHSERVER_SCRIPT = Path(_SPEC.origin)
_MAX_REDIRECTS = 10
_FORM_ACTION = re.compile(r'<form\b[^>]*\baction="([^"]*)"', re.IGNORECASE)


class AuthServerError(RuntimeError):
    """The test provider did not start, or did not behave as a step of the flow expected."""


class AuthServer:
    """A running test provider. Start one with `AuthServer.start(...)`; always `stop()` it."""

    def __init__(self, process: subprocess.Popen[bytes], base_url: str, issuer: str, log_file: IO[bytes]) -> None:
        self._process = process
        self._log_file = log_file
        self.base_url = base_url
        self.issuer = issuer
        self._http = httpx2.Client(base_url=base_url, timeout=10.0, trust_env=False)

    @classmethod
    def start(
        cls,
        *,
        clients: Sequence[tuple[str, str, str]],
        access_ttl: int = 3600,
        rotate_refresh: bool = True,
        issuer: str | None = None,
        scopes: Sequence[str] | None = None,
        startup_timeout: float = 20.0,
    ) -> AuthServer:
        """Start a provider on a free loopback port with `clients` as (client_id, secret, redirect_uri);
        repeat a client_id with the same secret to register several redirect URIs for it."""
        if not clients:
            raise ValueError("at least one client is needed")
        command = [sys.executable, str(AUTHSERVER_SCRIPT), "--port", "0", "--access-ttl", str(access_ttl)]
        command.append("--exit-on-stdin-eof")  # so that it dies with us even if we are killed
        for client_id, secret, redirect_uri in clients:
            command += ["--client", f"{client_id}:{secret}:{redirect_uri}"]
        if not rotate_refresh:
            command.append("--no-refresh-rotation")
        if issuer is not None:
            command += ["--issuer", issuer]
        if scopes is not None:
            command += ["--scopes", " ".join(scopes)]
        # stderr goes to a file, not a pipe: nobody reads a pipe while tests run, and a full one blocks the server.
        log_file = tempfile.TemporaryFile()
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file)
        try:
            base_url = _read_ready_line(process, startup_timeout, log_file)
        except BaseException:
            _terminate(process)
            log_file.close()
            raise
        return cls(process, base_url, issuer or base_url, log_file)

    # -- lifetime --

    def stop(self) -> None:
        """Terminate the server (kill it if it does not exit within 5 s). Safe to call twice."""
        self._http.close()
        _terminate(self._process)
        if not self._log_file.closed:
            self._log_file.close()

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        """The server's exit status once it has ended (0 after a clean `stop()`), else None."""
        return self._process.poll()

    def __enter__(self) -> AuthServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def log_text(self) -> str:
        """What the server has written to stderr so far (its request log)."""
        self._log_file.flush()
        self._log_file.seek(0)
        return self._log_file.read().decode("utf-8", "replace")

    # -- endpoints --

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.base_url}/authorize"

    @property
    def token_endpoint(self) -> str:
        return f"{self.base_url}/token"

    @property
    def userinfo_endpoint(self) -> str:
        return f"{self.base_url}/userinfo"

    @property
    def revocation_endpoint(self) -> str:
        return f"{self.base_url}/revoke"

    @property
    def jwks_uri(self) -> str:
        return f"{self.base_url}/jwks"

    # -- admin --

    def _admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, f"/_admin/{path}", json=body)
        if response.status_code != 200:
            raise AuthServerError(f"/_admin/{path} answered HTTP {response.status_code}: {response.text}")
        return response.json()

    def stats(self) -> dict[str, Any]:
        """{"token_requests": {grant_type: n}, "revocations": n, "userinfo_requests": n}"""
        result: dict[str, Any] = self._admin("GET", "stats")
        return result

    def reset_stats(self) -> None:
        self._admin("POST", "reset_stats")

    def set_behavior(
        self,
        *,
        token_endpoint: str | None = None,
        revocation_endpoint: str | None = None,
        authorization_response_iss: str | None = None,
        id_token: str | None = None,
    ) -> None:
        """token_endpoint: normal | hang | error_400_echo | error_500_html; revocation_endpoint: normal | error_503;
        authorization_response_iss (RFC 9207, always advertised in the metadata): send (this issuer) | omit (none:
        what a mix-up attacker's response looks like) | wrong (another issuer's identifier); id_token (OpenID
        Connect, when the scope holds openid): normal | wrong_nonce | wrong_audience | expired | bad_signature."""
        body = {
            "token_endpoint": token_endpoint,
            "revocation_endpoint": revocation_endpoint,
            "authorization_response_iss": authorization_response_iss,
            "id_token": id_token,
        }
        self._admin("POST", "behavior", {k: v for k, v in body.items() if v is not None})

    def revoke_user(self, username: str) -> int:
        """Revoke every grant of `username`, as if they disconnected the app at the provider; how many."""
        return int(self._admin("POST", "revoke_user", {"username": username})["revoked_grants"])

    def expire_access_tokens(self, username: str | None = None) -> int:
        """Expire the live access tokens of `username` (or everyone's); refresh tokens stay good."""
        return int(self._admin("POST", "expire_access_tokens", {"username": username})["expired"])

    def mint_jwt(
        self,
        sub: str,
        aud: str | list[str],
        expires_in: int = 3600,
        scope: str | None = "mcp",
        *,
        typ: str = "at+jwt",
        claims: dict[str, Any] | None = None,
    ) -> str:
        """An RS256 JWT signed by the key in /jwks, with iss = this issuer; `claims` override any claim."""
        body = {"sub": sub, "aud": aud, "expires_in": expires_in, "scope": scope, "typ": typ, "claims": claims or {}}
        return str(self._admin("POST", "mint_jwt", body)["token"])

    # -- the user's part of the authorization code flow --

    def consent(self, http_client: httpx2.Client, authorize_url: str, username: str, allow: bool = True) -> str:
        """Open `authorize_url` (this server's /authorize, or a URL that redirects to it), submit the
        consent form as `username`, and return the Location it redirects to (the client's callback
        URL with code, state and iss, or with error=access_denied), without following it."""
        url = authorize_url
        for _ in range(_MAX_REDIRECTS):
            if self._is_authorize(url):
                break
            url = self._next_hop(url, http_client.get(url, follow_redirects=False))
        else:
            raise AuthServerError(f"no redirect to {self.authorization_endpoint} within {_MAX_REDIRECTS} hops")
        action = self._form_action(http_client.get(url, follow_redirects=False))
        answer = http_client.post(action, data=_form(username, allow), follow_redirects=False)
        return _callback(answer)

    async def aconsent(
        self, http_client: httpx2.AsyncClient, authorize_url: str, username: str, allow: bool = True
    ) -> str:
        """`consent` with an async client."""
        url = authorize_url
        for _ in range(_MAX_REDIRECTS):
            if self._is_authorize(url):
                break
            url = self._next_hop(url, await http_client.get(url, follow_redirects=False))
        else:
            raise AuthServerError(f"no redirect to {self.authorization_endpoint} within {_MAX_REDIRECTS} hops")
        action = self._form_action(await http_client.get(url, follow_redirects=False))
        answer = await http_client.post(action, data=_form(username, allow), follow_redirects=False)
        return _callback(answer)

    def _is_authorize(self, url: str) -> bool:
        parsed, ours = httpx2.URL(url), httpx2.URL(self.base_url)
        return (parsed.scheme, parsed.host, parsed.port, parsed.path) == (
            ours.scheme,
            ours.host,
            ours.port,
            "/authorize",
        )

    @staticmethod
    def _next_hop(url: str, response: httpx2.Response) -> str:
        if not response.is_redirect:
            raise AuthServerError(f"{url.split('?')[0]} answered HTTP {response.status_code}, not a redirect")
        return str(response.url.join(response.headers["location"]))

    def _form_action(self, page: httpx2.Response) -> str:
        if page.is_redirect:
            location = httpx2.URL(page.headers["location"])
            error = location.params.get("error")
            description = location.params.get("error_description")
            raise AuthServerError(f"the authorization request was refused: {error}: {description}")
        match = _FORM_ACTION.search(page.text)
        if page.status_code != 200 or match is None:
            text = re.sub(r"<[^>]+>", " ", page.text)
            raise AuthServerError(f"no consent form (HTTP {page.status_code}): {' '.join(text.split())}")
        return str(page.url.join(html.unescape(match.group(1))))


def _form(username: str, allow: bool) -> dict[str, str]:
    return {"username": username, "consent": "allow" if allow else "deny"}


def _callback(answer: httpx2.Response) -> str:
    if answer.status_code != 302:
        text = re.sub(r"<[^>]+>", " ", answer.text)
        raise AuthServerError(f"consent answered HTTP {answer.status_code}: {' '.join(text.split())}")
    return answer.headers["location"]


def _read_ready_line(process: subprocess.Popen[bytes], timeout: float, log_file: IO[bytes]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    received = b""
    while b"\n" not in received:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AuthServerError(f"authserver printed no READY line within {timeout} s{_stderr_of(log_file)}")
        readable, _, _ = select.select([process.stdout], [], [], remaining)
        if readable:
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                process.wait(timeout=5)
                raise AuthServerError(f"authserver exited with status {process.returncode}{_stderr_of(log_file)}")
            received += chunk
    line = received.split(b"\n", 1)[0].decode()
    if not line.startswith("READY http://"):
        raise AuthServerError(f"unexpected first line from authserver: {line!r}{_stderr_of(log_file)}")
    return line.removeprefix("READY ").strip()


def _stderr_of(log_file: IO[bytes]) -> str:
    log_file.flush()
    log_file.seek(0)
    text = log_file.read().decode("utf-8", "replace").strip()
    return f"; its stderr:\n{text}" if text else " (nothing on stderr)"


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for pipe in (process.stdin, process.stdout):
        if pipe is not None and not pipe.closed:
            pipe.close()
