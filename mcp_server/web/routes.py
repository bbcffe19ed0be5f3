"""The browser's side of a flow and the health check: `/connect/<id>`, `/oauth/callback`, `/healthz`.

These routes are not behind MCP bearer auth: a browser reaches them. What protects a flow is its opaque
id, the single-use state, PKCE, and the flow record on the server.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mcp_server.authorization import AuthorizationService, CallbackError, FlowUnavailable, ProviderNotConfigured
from mcp_server.errors import StorageUnavailable
from mcp_server.vault import Flow
from mcp_server.web.pages import BROWSER_HEADERS, page, secret_form

__all__ = ["create_web_routes"]

logger = logging.getLogger(__name__)

_MAX_PARAM = 4096  # a code or state longer than this is not from a provider we talk to
_MAX_SECRET = 4096  # characters of a secret a user types


def _retry_page_on_outage(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """A database that is briefly away answers a page saying to reload, never an internal error."""

    @functools.wraps(handler)
    async def route(request: Request) -> Response:
        try:
            return await handler(request)
        except StorageUnavailable as exc:
            logger.warning("%s: %s", request.url.path, exc)
            return page(
                "Try again in a moment", "authmcp is busy right now. Reload this page in a few seconds.",
                status_code=503,
            )

    return route


def create_web_routes(service: AuthorizationService) -> list[Route]:
    async def connect(request: Request) -> Response:
        flow_id = request.path_params["flow_id"]
        if len(flow_id) > 64:
            return page("Link not valid", "This authorization link is not known.", status_code=404)
        flow = await service.flow_status(flow_id)
        if flow is not None and flow.kind == "secret":
            return await secret(request, flow)
        if request.method != "GET":
            return page("Not allowed", "Open this link in your browser.", status_code=405)
        try:
            url = await service.redirect(flow_id)
        except FlowUnavailable as exc:
            return page("Link not valid", str(exc), status_code=410)
        except ProviderNotConfigured as exc:
            return page("Provider not configured", str(exc), status_code=503)
        logger.info("flow %s: browser sent to the provider", flow_id)
        return RedirectResponse(url, status_code=303, headers=BROWSER_HEADERS)

    async def callback(request: Request) -> Response:
        params = {key: value for key, value in request.query_params.items() if len(value) <= _MAX_PARAM}
        try:
            flow = await service.complete(params)
        except CallbackError as exc:
            logger.info("callback refused (flow %s): %s", exc.flow_id or "unknown", exc)
            return page("Authorization failed", str(exc), status_code=exc.status)
        except ProviderNotConfigured as exc:
            return page("Provider not configured", str(exc), status_code=503)
        # 303 to a clean URL: the code and state leave the address bar and the history
        if flow.status == "awaiting_verification":
            return RedirectResponse(service.verifier_redirect(flow), status_code=303, headers=BROWSER_HEADERS)
        return RedirectResponse(f"/connect/{flow.id}/done", status_code=303, headers=BROWSER_HEADERS)

    async def secret(request: Request, flow: Flow) -> Response:
        name = flow.provider_id
        if flow.status != "pending" or flow.is_expired(time.time()):
            return page("Link not valid", "This link has expired or was already used. Go back to your app.", status_code=410)
        action = f"/connect/{flow.id}"
        if request.method == "GET":
            return secret_form(name, action, max_length=_MAX_SECRET)
        form = await request.form(max_files=0, max_fields=4)
        value = form.get("value")
        value = value.strip() if isinstance(value, str) else ""
        if not value or len(value) > _MAX_SECRET:
            error = f"Enter your {name}: it cannot be empty or longer than {_MAX_SECRET} characters."
            return secret_form(name, action, max_length=_MAX_SECRET, error=error)
        try:
            await service.submit_secret(flow.id, value)
        except FlowUnavailable as exc:
            return page("Link not valid", str(exc), status_code=410)
        return RedirectResponse(f"/connect/{flow.id}/done", status_code=303, headers=BROWSER_HEADERS)

    async def done(request: Request) -> Response:
        flow = await service.flow_status(request.path_params["flow_id"][:64])
        if flow is None:
            return page("Link not valid", "This authorization link is not known.", status_code=404)
        provider = service.providers.get(flow.provider_id)
        name = provider.name if provider else flow.provider_id
        if flow.kind == "secret" and flow.status == "completed":
            return page(f"{flow.provider_id} saved", "It is stored encrypted. You can close this tab and go back to your app.")
        if flow.status == "completed":
            return page(
                f"Connected to {name}",
                f"authmcp can now act on your {name} account for the tools you use. "
                f"You can close this tab and go back to your app.",
            )
        if flow.status == "awaiting_verification":
            return page("Almost done", "Your app still has to confirm who you are. Go back to it to finish.", status_code=409)
        if flow.status == "failed":
            return page("Authorization failed", flow.error or "The authorization did not complete.", status_code=400)
        return page("Not finished", "This authorization is still in progress.", status_code=409)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return [
        Route("/connect/{flow_id}", _retry_page_on_outage(connect), methods=["GET", "POST"]),
        Route("/connect/{flow_id}/done", _retry_page_on_outage(done), methods=["GET"]),
        Route("/oauth/callback", _retry_page_on_outage(callback), methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
