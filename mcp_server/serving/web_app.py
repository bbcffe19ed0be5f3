"""The HTTP apps: everything on one Starlette app for `serve --transport http`, the pages alone beside stdio.

One router, `/mcp` first so a tool call matches at once; one Host/Origin check (`HostCheck`, in front of every
route, so the SDK's own transport check is off); bearer auth (`BearerAuth`) in front of the MCP endpoints only.
The browser routes and `/v1` have their own protections (flow cookies, API keys).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_server.calls.identity import Identities
from mcp_server.errors import ConfigError
from mcp_server.serving.probes import readiness_routes
from mcp_server.serving.shared_pages import identity_route, instance_secret
from mcp_server.web.approve import create_approval_routes
from mcp_server.web.bearer import BearerAuth, metadata_routes
from mcp_server.web.consent import create_web_routes
from mcp_server.web.front_door import create_front_door_routes, session_gate
from mcp_server.web.front_door_home import create_signed_in_home_routes
from mcp_server.web.home import create_home_routes
from mcp_server.web.hosts import HostCheck, allowed_hosts
from mcp_server.web.local_user import SameUserOnly, peer_check_available
from mcp_server.web.pages import not_found_handler

if TYPE_CHECKING:
    from mcp_server.serving.runtime import Runtime

__all__ = ["create_http_app", "create_web_app", "on_a_socket"]

logger = logging.getLogger(__name__)

# HostCheck answers for every route; the SDK still checks a POST's Content-Type
_NO_SDK_HOST_CHECK = TransportSecuritySettings(enable_dns_rebinding_protection=False)


def create_http_app(runtime: Runtime, *, stateless: bool = False, json_response: bool = False) -> Starlette:
    """Streamable HTTP at `/mcp`, legacy SSE at `/sse` + `/messages/`, the web routes and `/v1`, on one app."""
    mcp = runtime.mcp
    # the SDK's apps are built for their routes (and the session manager, `mcp.session_manager`): `/mcp`, then
    # `/sse` and the `/messages/` mount, taken into this app's one router
    transports = [
        *mcp.streamable_http_app(
            streamable_http_path="/mcp",
            stateless_http=stateless,
            json_response=json_response,
            transport_security=_NO_SDK_HOST_CHECK,
        ).routes,
        *mcp.sse_app(sse_path="/sse", message_path="/messages/", transport_security=_NO_SDK_HOST_CHECK).routes,
    ]
    if runtime.identities is not None:
        transports = [_behind_bearer(route, runtime.identities) for route in transports]
        transports += metadata_routes(runtime.identities)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield

    routes = [*transports, *_web_routes(runtime, mcp_url=f"{runtime.public_url}/mcp"), *readiness_routes(runtime)]
    app = Starlette(
        routes=[*routes, _slash_redirect("/mcp")],
        middleware=_middleware(runtime),
        exception_handlers=_exception_handlers(runtime),
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    return app


def create_web_app(runtime: Runtime) -> Starlette:
    """The browser routes (`/connect`, `/oauth/callback`, `/healthz`) and the `/v1` API, as served beside stdio."""
    app = Starlette(
        routes=_web_routes(runtime, mcp_url=None),
        middleware=_middleware(runtime),
        exception_handlers=_exception_handlers(runtime),
    )
    app.router.redirect_slashes = False
    return app


def _slash_redirect(path: str) -> Route:
    """`path` + "/" sent on to `path` (an MCP URL written with a slash), without its query. Starlette's own
    trailing-slash redirect is off: it copied any query into the Location of every page, reflecting what was sent."""

    async def redirect(request: Request) -> Response:
        return RedirectResponse(path, status_code=307)

    return Route(f"{path}/", redirect, methods=["GET", "POST", "DELETE"])


def _behind_bearer(route: BaseRoute, identities: Identities) -> BaseRoute:
    if isinstance(route, Mount):
        return Mount(route.path, app=BearerAuth(route.app, identities=identities))
    assert isinstance(route, Route)
    return Route(route.path, BearerAuth(route.app, identities=identities), methods=route.methods)


def _middleware(runtime: Runtime) -> list[Middleware]:
    hosts, origins = allowed_hosts(runtime.public_url, runtime.settings.allowed_hosts)
    # with the front door, browser-based OAuth clients read the resource's metadata from their own origin
    check = Middleware(HostCheck, hosts=hosts, origins=origins, public_metadata=runtime.front_door is not None)
    return [*runtime.observability.middleware(), check]


def on_a_socket(app: ASGIApp, runtime: Runtime) -> ASGIApp:
    """`app` as served on a real socket: in single-user mode every caller acts as the local user, so only the OS
    user who started authmcp may call (local_user.py)."""
    if runtime.multi_user:
        return app
    if peer_check_available():
        return SameUserOnly(app)
    logger.warning(
        "this system does not say which OS user owns a connection: any user of this computer who reaches the "
        "port acts as %r (see docs/security.md)",
        runtime.settings.user_id,
    )
    return app


def _has_home(runtime: Runtime) -> bool:
    # Multi-user: the home pages need to know who is in the browser, which only the front door's sign-in says.
    return not runtime.multi_user and not runtime.settings.api.keys


def _exception_handlers(runtime: Runtime) -> dict[Any, Any]:
    handler = not_found_handler(home=_has_home(runtime) or runtime.front_door is not None)
    return {404: handler, 405: handler}


def _web_routes(runtime: Runtime, *, mcp_url: str | None) -> list[BaseRoute]:
    """`mcp_url`: where clients reach MCP over HTTP, shown on the home page (None: beside stdio)."""
    gate = session_gate(*runtime.front_door) if runtime.front_door is not None else None
    return [
        *_front_door_routes(runtime),
        *create_web_routes(runtime.service, gate=gate),
        *create_approval_routes(runtime.service, runtime.catalog, gate=gate),
        *_local_routes(runtime, mcp_url),
        Mount("/v1", app=_OnFirstRequest(lambda: _api(runtime))),
        *runtime.observability.routes(),
    ]


class _OnFirstRequest:
    """An ASGI app built when its first request arrives, so that a process that never serves it (most stdio
    ones never see a `/v1` request) does not import its modules, their pydantic models among them."""

    def __init__(self, build: Callable[[], ASGIApp]) -> None:
        self._build = build
        self._app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:  # built without an await: two first requests cannot both build it
            self._app = self._build()
        await self._app(scope, receive, send)


def _api(runtime: Runtime) -> ASGIApp:
    """The `/v1` API, as the app its mount serves."""
    from mcp_server.web.api import create_api_routes

    (mount,) = create_api_routes(runtime.catalog, runtime.calls, runtime.settings)
    assert isinstance(mount, Mount) and mount.path == "/v1"
    return mount.app


def _front_door_routes(runtime: Runtime) -> list[BaseRoute]:
    """With `[front_door]`: the authorization server's routes, its sign-in, and the signed-in person's pages."""
    if runtime.front_door is None:
        return []
    door, sign_in = runtime.front_door
    key = runtime.vault.keyring.derive("front door csrf")
    return [
        *create_front_door_routes(door, sign_in, csrf_key=key),
        *create_signed_in_home_routes(runtime.service, door, sign_in, csrf_key=key),
    ]


def _local_routes(runtime: Runtime, mcp_url: str | None) -> list[BaseRoute]:
    """The data dir's identity (so stdio processes share one port) and, for the local user, their own pages."""
    routes: list[BaseRoute] = []
    with contextlib.suppress(ConfigError):  # e.g. a read-only data dir beside PostgreSQL: nobody to share with
        routes.append(identity_route(instance_secret(runtime.settings.data_dir)))
    # Multi-user: these pages need to know who is in the browser: with [front_door] they are served behind its
    # sign-in (web/front_door_home.py); otherwise not at all.
    if _has_home(runtime):
        routes += create_home_routes(runtime.service, runtime.settings.user_id, mcp_url=mcp_url)
    return routes
