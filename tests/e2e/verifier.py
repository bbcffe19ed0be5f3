"""A small application with a verifier page, for `[api] verification = "custom"`: it knows who is signed in to
it (a cookie set by `/login/<user>`) and confirms that user to authmcp with arcadepy's documented call.

Everything it received at `/verify` is kept in `VerifierApp.received`, so tests can check that those values
never appear anywhere else (logs, pages) and that nobody else could have used them.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import uvicorn
from arcadepy import AsyncArcade, BadRequestError, PermissionDeniedError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.e2e.conftest import free_port

__all__ = ["VerifierApp", "verifier_app"]

APP_COOKIE = "app_user"


@dataclass
class VerifierApp:
    port: int
    received: list[str] = field(default_factory=list)  # the flow_id values the verifier page was given
    refusals: list[Any] = field(default_factory=list)  # authmcp's error bodies

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def verify_url(self) -> str:
        return f"{self.base_url}/verify"

    def login_url(self, user: str) -> str:
        return f"{self.base_url}/login/{user}"


def _page(title: str, text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{text}</p>", status_code=status)


@contextlib.asynccontextmanager
async def verifier_app(authmcp_url: str, api_key: str, port: int | None = None) -> AsyncIterator[VerifierApp]:
    app_state = VerifierApp(port or free_port())
    arcade = AsyncArcade(api_key=api_key, base_url=authmcp_url, max_retries=0)

    async def login(request: Request) -> Response:
        response = _page("Signed in", f"Signed in to the app as {request.path_params['user']}.")
        response.set_cookie(APP_COOKIE, request.path_params["user"], httponly=True, samesite="lax")
        return response

    async def verify(request: Request) -> Response:
        flow_id = request.query_params.get("flow_id", "")
        app_state.received.append(flow_id)
        user = request.cookies.get(APP_COOKIE)
        if not user:
            return _page("Sign in to the app", "Sign in to the app to finish connecting your account.", 401)
        try:
            confirmed = await arcade.auth.confirm_user(flow_id=flow_id, user_id=user)
        except (PermissionDeniedError, BadRequestError) as exc:
            app_state.refusals.append(exc.body)
            return _page("Not confirmed", "This authorization was started for another account.", 403)
        return RedirectResponse(confirmed.next_uri or "/", status_code=303)

    sock = socket.socket()
    sock.bind(("127.0.0.1", app_state.port))
    routes = [Route("/login/{user}", login), Route("/verify", verify)]
    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=routes), log_level="warning", lifespan="off", log_config=None)
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: server.serve(sockets=[sock]))
        with anyio.fail_after(10):
            while not server.started:
                await anyio.sleep(0.02)
        try:
            yield app_state
        finally:
            server.should_exit = True
            await arcade.close()
    sock.close()
