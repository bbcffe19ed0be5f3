"""The browser's side of a flow and the health check: `/connect/<id>`, `/oauth/callback`, `/oauth/verify`,
`/oauth/confirmed`, `/connect/<id>/done`, `/healthz`.

These routes are not behind MCP bearer auth: a browser reaches them. What protects a flow is the cookie that
binds it to the first browser that opened its link (only that browser can finish it or see how it went), the
single-use state, PKCE, and, when users are verified, the confirmation only the consenting browser receives.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mcp_server.authorization.browser_binding import BrowserAdmission
from mcp_server.authorization.errors import CallbackError, FlowUnavailable, WrongBrowser
from mcp_server.authorization.exchange import Landing
from mcp_server.authorization.service import AuthorizationService
from mcp_server.errors import ProviderNotConfigured
from mcp_server.observability.audit import flow_ref
from mcp_server.vault import Flow
from mcp_server.vault.flow_records import ApprovalFlow, ConsentFlow, SecretFlow
from mcp_server.web.pages import BROWSER_HEADERS, flow_page, other_browser_page, page, retry_page_on_outage, secret_form

__all__ = ["create_web_routes"]

logger = logging.getLogger(__name__)

_MAX_PARAM = 4096  # a code or state longer than this is not from a provider we talk to
_MAX_SECRET = 4096  # characters of a secret a user types
_BACK = "Go back to your app and try the tool again for a new link."


def _not_known() -> Response:
    return page("Link not valid", "This authorization link is not known here.", _BACK, status_code=404)


# who may open a flow's link, when the browser says who it is (the front door's session, web/front_door.py):
# None lets the browser in; else the answer it gets instead (a sign-in first, or a refusal)
BrowserGate = Callable[[Request, Flow], Awaitable[Response | None]]


def create_web_routes(service: AuthorizationService, *, gate: BrowserGate | None = None) -> list[Route]:
    flows = service.flows
    form_targets = flows.verification_origins  # where a secret form's answer may redirect (CSP form-action)

    def provider_name(provider_id: str) -> str:
        provider = service.providers.get(provider_id)
        return provider.name if provider else provider_id

    def named(flow: Flow) -> str:
        """What a flow's pages call it: a consent's provider, a secret's or an approved tool's own name."""
        if isinstance(flow, ConsentFlow):
            return provider_name(flow.provider_id)
        if isinstance(flow, SecretFlow):
            return provider_name(flow.name)
        return provider_name(flow.tool if isinstance(flow, ApprovalFlow) else "")

    def go(landing: Landing | str) -> Response:
        url = landing.url if isinstance(landing, Landing) else landing
        return RedirectResponse(url, status_code=303, headers=BROWSER_HEADERS)

    with_cookie = flows.set_browser_cookie

    async def connect(request: Request) -> Response:
        flow_id = request.path_params["flow_id"]
        if len(flow_id) > 64:
            return _not_known()
        if gate is not None:
            known = await service.vault.get_flow(flow_id)
            instead = await gate(request, known) if known is not None else None
            if instead is not None:
                return instead
        # only opening a link binds it to a browser; a POST from a browser without its cookie changes nothing
        admission = await service.flows.open_in_browser(flow_id, request.cookies, bind=request.method == "GET")
        if admission is None:
            return _not_known()
        flow = admission.flow
        if not admission.ours:
            logger.info("flow %s: a browser other than its own opened the link", flow_ref(flow.id))
            return other_browser_page(flow)
        if not flow.open or flow.status != "pending":
            if request.method != "GET":
                return page(
                    "Link already used",
                    "This link has been used or has expired; nothing was changed.",
                    _BACK,
                    status_code=410,
                )
            return flow_page(flow, named(flow))
        if isinstance(flow, SecretFlow):
            return with_cookie(await secret(request, admission, flow), admission)
        if request.method != "GET":
            return page(
                "Not allowed", "This link is opened, not posted to.", "Open it in your browser.", status_code=405
            )
        try:
            url = await service.flows.redirect(flow.id)
        except FlowUnavailable as exc:
            return page("Link not valid", str(exc), _BACK, status_code=410)
        except ProviderNotConfigured as exc:
            return page("Provider not configured", str(exc), "Tell whoever runs this server.", status_code=503)
        logger.info("flow %s: browser sent to the provider", flow_ref(flow.id))
        return with_cookie(go(url), admission)

    async def secret(request: Request, admission: BrowserAdmission, flow: SecretFlow) -> Response:
        action = f"/connect/{flow.id}"
        token = flows.form_token(admission, request.cookies)

        def form(error: str | None = None) -> Response:
            return secret_form(flow, action, csrf=token, max_length=_MAX_SECRET, error=error, form_targets=form_targets)

        if request.method == "GET":
            return form()
        posted = await request.form(max_files=0, max_fields=4)
        sent = posted.get("csrf")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, token):
            return page(
                "Form expired",
                "This form was not sent from the page that showed it.",
                "Reload the page and type the value again.",
                status_code=403,
            )
        value = posted.get("value")
        value = value.strip() if isinstance(value, str) else ""
        if not value or len(value) > _MAX_SECRET:
            return form(f"Enter your {flow.name}: it cannot be empty or longer than {_MAX_SECRET} characters.")
        try:
            return go(await flows.submit_secret(flow.id, value))
        except (FlowUnavailable, CallbackError) as exc:
            return page("Link not valid", str(exc), _BACK, status_code=410)

    async def callback(request: Request) -> Response:
        params = {key: value for key, value in request.query_params.items() if len(value) <= _MAX_PARAM}
        try:
            return go(await service.flows.complete(params, request.cookies))
        except WrongBrowser as exc:
            logger.info("callback refused (flow %s): not the flow's browser", flow_ref(exc.flow_id or ""))
            return page("Opened in another browser", str(exc), "Nothing was connected.", status_code=exc.status)
        except CallbackError as exc:
            logger.info("callback refused (flow %s): %s", flow_ref(exc.flow_id) if exc.flow_id else "unknown", exc)
            return _callback_failure(exc)
        except ProviderNotConfigured as exc:
            return page("Provider not configured", str(exc), "Tell whoever runs this server.", status_code=503)

    def back_from_verifying(
        finish: Callable[..., Awaitable[Flow]], what: str
    ) -> Callable[[Request], Awaitable[Response]]:
        """The browser is back from verifying who it is: `idp` from signing in at the issuer (`/oauth/verify`),
        `custom` from the application that confirmed the user (`/oauth/confirmed`, its `next_uri`)."""

        async def endpoint(request: Request) -> Response:
            params = {key: value for key, value in request.query_params.items() if len(value) <= _MAX_PARAM}
            try:
                flow = await finish(params, request.cookies)
            except WrongBrowser as exc:
                return page("Opened in another browser", str(exc), "Nothing was changed.", status_code=exc.status)
            except CallbackError as exc:
                logger.info("%s refused (flow %s): %s", what, flow_ref(exc.flow_id) if exc.flow_id else "unknown", exc)
                return _callback_failure(exc)
            return go(service.flows.done_url(flow))

        return endpoint

    verify = back_from_verifying(service.flows.finish_sign_in, "sign-in")
    confirmed = back_from_verifying(service.flows.finish_confirmation, "confirmation")

    async def done(request: Request) -> Response:
        flow = await service.flows.flow_status(request.path_params["flow_id"][:64])
        if flow is None:
            return _not_known()
        if not service.flows.browser_matches(flow, request.cookies):
            # status pages tell the flow's own browser how it went, and nobody else anything
            return page(
                "Nothing to show here",
                "This page shows a result only in the browser that opened the link.",
                "Go back to your app to see whether the authorization finished.",
                status_code=403,
            )
        return flow_page(flow, named(flow))

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return [
        Route("/connect/{flow_id}", retry_page_on_outage(connect), methods=["GET", "POST"]),
        Route("/connect/{flow_id}/done", retry_page_on_outage(done), methods=["GET"]),
        Route("/oauth/callback", retry_page_on_outage(callback), methods=["GET"]),
        Route("/oauth/verify", retry_page_on_outage(verify), methods=["GET"]),
        Route("/oauth/confirmed", retry_page_on_outage(confirmed), methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]


def _callback_failure(exc: CallbackError) -> Response:
    message = str(exc).removesuffix(" Start again from your app.")  # the page's next step says it, once
    if exc.reason == "not_approved":  # an approval confirmed by someone else, or in another browser
        return page("Not approved", message, "Go back to your app; it may ask again.", status_code=exc.status)
    if exc.reason == "declined":
        return page(
            "Access declined",
            message,
            "If that was a mistake, try the tool again in your app.",
            status_code=exc.status,
            tone="declined",
        )
    return page("Authorization failed", message, "Go back to your app and try the tool again.", status_code=exc.status)
