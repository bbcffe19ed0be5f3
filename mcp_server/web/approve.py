"""`/approve/<id>`: the page where a person approves or declines one tool call, for clients that cannot ask
them in a form of their own.

The form is protected by a token held in an HttpOnly, SameSite=Strict cookie set when the page was shown and
repeated in the form (a double submit): another site cannot read the cookie nor make the browser send it, so
it cannot decide for the person. The page keeps the `Origin` header on its POST (Referrer-Policy
`same-origin`; `no-referrer` would make Chromium send `Origin: null`, which the Host/Origin check refuses).
"""

from __future__ import annotations

import hmac
import secrets
import time
from html import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mcp_server.audit import flow_ref
from mcp_server.authorization import AuthorizationService
from mcp_server.vault.approvals import KIND, decide_approval, read_description
from mcp_server.web.pages import BROWSER_HEADERS, page

__all__ = ["create_approval_routes"]

_HEADERS = {**BROWSER_HEADERS, "Referrer-Policy": "same-origin"}

_FORM = """<pre style="white-space:pre-wrap;background:#f6f8fa;padding:1rem;border-radius:6px">{description}</pre>
<form method="post" action="{action}"><input type="hidden" name="csrf" value="{csrf}">
<p><button type="submit" name="decision" value="approve">Approve this call</button>
<button type="submit" name="decision" value="decline">Decline</button></p></form>"""


def _cookie_name(request: Request, flow_id: str) -> str:
    prefix = "__Host-" if request.url.scheme == "https" else ""
    return f"{prefix}authmcp-approve-{flow_ref(flow_id)}"


def create_approval_routes(service: AuthorizationService) -> list[Route]:
    async def approve(request: Request) -> Response:
        flow_id = request.path_params["flow_id"][:64]
        flow = await service.flow_status(flow_id)
        if flow is None or flow.kind != KIND:
            return page("Link not valid", "This approval link is not known. Go back to your app.", status_code=404)
        if flow.status == "completed":
            return page("Approved", "Go back to your app: the tool runs when it is called again.", status_code=200)
        if flow.status == "used":
            return page("Already done", "This call was approved and has run. You can close this tab.")
        if flow.status == "failed":
            return page("Not approved", f"{flow.error or 'This approval expired.'} The tool did not run.", status_code=410)
        if flow.is_expired(time.time()):
            return page("Link expired", "This approval link has expired; the tool did not run. Go back to your app.",
                        status_code=410)
        cookie = _cookie_name(request, flow.id)
        if request.method == "GET":
            description = await read_description(service.vault, flow.id) or flow.provider_id
            csrf = secrets.token_urlsafe(24)
            response = page(
                "Approve this call?",
                f"An app wants to act for you ({flow.user_id}). Read what it will do, then approve or decline.",
                extra=_FORM.format(description=escape(description), action=escape(f"/approve/{flow.id}"), csrf=csrf),
            )
            response.headers.update(_HEADERS)
            response.set_cookie(
                cookie, csrf, max_age=int(max(60, flow.expires_at - time.time())), httponly=True, samesite="strict",
                secure=request.url.scheme == "https", path="/approve",
            )
            return response
        form = await request.form(max_files=0, max_fields=4)
        sent, expected = form.get("csrf"), request.cookies.get(cookie)
        if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
            return page("Open the link again", "This form was not sent from the page this browser was shown. "
                        "Open the approval link again and decide there.", status_code=403)
        approve_it = form.get("decision") == "approve"
        decided = await decide_approval(service.vault, flow.id, approve=approve_it)
        if decided is None:
            return page("Already decided", "This approval was already answered or has expired.", status_code=409)
        service.audit.record(
            "approval.granted" if approve_it else "approval.declined", user_id=flow.user_id, tool=flow.provider_id,
            actor="user", outcome="granted" if approve_it else "declined", detail="on a page",
            flow_ref=flow_ref(flow.id),
        )
        if approve_it:
            return page("Approved", "Go back to your app: the tool runs when it is called again.")
        return page("Declined", "The tool will not run. You can close this tab.")

    return [Route("/approve/{flow_id}", approve, methods=["GET", "POST"])]
