"""`/approve/<id>`: the page where a person approves or declines one tool call, for clients that cannot ask
them in a form of their own.

It is protected like an authorization link (`/connect/<id>`, see browser_binding.py and verification.py):

- The link is bound to the first browser that opens it (the flow's own cookie, only its hash stored); any other
  browser is told it was opened elsewhere and can decide nothing.
- The form carries a token derived from that cookie (HttpOnly): another site can neither read it nor make the
  browser post it. The page keeps the `Origin` header on its POST (Referrer-Policy `same-origin`; `no-referrer`
  would make Chromium send `Origin: null`, which the Host/Origin check refuses).
- A yes needs a person's gesture in a real browser (`_not_a_persons`): the form is given only to a top-level
  navigation, and an answer counts only from a click on this very page, as the browser's `Sec-Fetch-*` headers
  say (sent to https and loopback origins by every current browser; where they cannot be expected, a plain http
  public URL, they are checked when sent). Each page's form token is fresh and used once (by the process that
  took it; the decision itself is made once, in the vault). An agent whose HTTP
  client fetches the link and posts the form is refused, and does not bind the link to itself.
- With `[front_door]`, the link opens only in a browser signed in as the call's user (`gate`, the sign-in's session:
  web/front_door.py): one with no session signs in first and comes back, one signed in as someone else is
  refused before the link is bound, so it stays usable by its user. The checks above still apply.
- With `[api] verification = "custom"` or `"idp"`, a yes counts only once the person in the browser is shown to
  be the user the call acts for, by the same steps as consent: whoever made the link (an agent that can open
  URLs and post forms, or drive a browser) cannot approve its own call. Without verification, a program that
  runs as the user and drives a real browser can: docs/security.md says what single-user mode can prevent.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import Mapping
from html import escape
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mcp_server.authorization.browser_binding import BrowserAdmission
from mcp_server.authorization.errors import CallbackError
from mcp_server.authorization.service import AuthorizationService
from mcp_server.authorization.verification import digest
from mcp_server.calls.catalog import Catalog
from mcp_server.config import is_loopback
from mcp_server.observability.audit import flow_ref
from mcp_server.vault import Flow
from mcp_server.vault.approvals import decide_approval, read_description
from mcp_server.vault.flow_records import ApprovalFlow
from mcp_server.web.consent import BrowserGate
from mcp_server.web.pages import (
    BROWSER_HEADERS,
    account_label,
    lifetime,
    other_browser_page,
    page,
    retry_page_on_outage,
)

__all__ = ["create_approval_routes"]

logger = logging.getLogger(__name__)

_HEADERS = {**BROWSER_HEADERS, "Referrer-Policy": "same-origin"}
_BACK = "Go back to your app; it may ask again."
_UNANSWERED = ("pending", "awaiting_verification", "awaiting_browser")

_ABOUT = """<dl class="about"><dt>Tool</dt><dd>{tool}</dd><dt>What it does</dt><dd>{what}</dd>
<dt>Acts on</dt><dd>{acts_on}</dd></dl>"""
_FORM = """<div class="call">{description}</div>
<form method="post" action="{action}"><input type="hidden" name="csrf" value="{csrf}">
<p><button type="submit" name="decision" value="approve">Approve this call</button>
<button type="submit" name="decision" value="decline">Decline</button></p></form>"""


def _not_a_persons(request: Request, *, expected: bool) -> str | None:
    """Why this request is not a person's own step in a browser (None if it is): opening the link as a page of
    its own (GET), or clicking a button of this page (POST). `expected`: browsers send `Sec-Fetch-*` here."""
    fetch = {name: request.headers.get(f"sec-fetch-{name}") for name in ("site", "mode", "dest", "user")}
    if fetch["mode"] is None:
        return "not sent by a web browser" if expected else None
    if fetch["mode"] != "navigate" or fetch["dest"] != "document":
        return "not opened as a page of its own"
    if request.method == "POST" and (fetch["site"] != "same-origin" or fetch["user"] != "?1"):
        return "not a click on this page"
    return None


def _described(description: str) -> str:
    """The call's description (one line per argument, see `describe_call`) as a list: each argument is its own
    item, wrapped inside it, so no value, however long, can look like an argument of its own."""
    heading, *items = description.split("\n")
    listed = "".join(f"<li><code>{escape(item.removeprefix('- '))}</code></li>" for item in items)
    return f"<p><strong>{escape(heading)}</strong></p><ul>{listed}</ul>"


def _answered(flow: Flow) -> Response:
    """What the link's own browser is told once the question is no longer open."""
    if flow.status == "completed":
        return _approved()
    if flow.status == "used":
        return page("Already done", "This call was approved and has run.", "You can close this tab.")
    if flow.status == "failed":
        declined = (flow.error or "").startswith("The person declined")
        return page(
            "Not approved",
            f"{flow.error or 'This approval expired.'} The tool did not run.",
            _BACK,
            status_code=410,
            tone="declined" if declined else "fail",
        )
    if flow.status == "exchanging":
        return page(
            "Almost done", "Your approval is being confirmed.", "Reload this page in a moment.", status_code=409
        )
    valid = lifetime(flow.expires_at - flow.created_at)
    return page(
        "Link expired", f"This approval link was valid for {valid}; the tool did not run.", _BACK, status_code=410
    )


def _approved() -> Response:
    return page(
        "Approved",
        "Your yes counts for this one call, with exactly these arguments.",
        "Go back to your app: the tool runs when it is called again.",
    )


def _already_decided() -> Response:
    return page("Already decided", "This approval was already answered or has expired.", _BACK, status_code=409)


def create_approval_routes(
    service: AuthorizationService, catalog: Catalog, *, gate: BrowserGate | None = None
) -> list[Route]:
    flows = service.flows
    public = urlsplit(flows.public_url)
    fetch_metadata_expected = public.scheme == "https" or is_loopback(public.hostname or "")
    spent: dict[str, float] = {}  # form nonces used in this process, until their flow expires

    def form_token(admission: BrowserAdmission, cookies: Mapping[str, str]) -> str:
        """A fresh token for one page: a nonce and its MAC under the flow's browser binding (flows.form_token),
        so only a page shown to that browser can post it, on any replica."""
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{digest(nonce + flows.form_token(admission, cookies))[:32]}"

    def spend(token: object, admission: BrowserAdmission, cookies: Mapping[str, str]) -> bool:
        nonce, _, mac = token.partition(".") if isinstance(token, str) else ("", "", "")
        expected = digest(nonce + flows.form_token(admission, cookies))[:32]
        if not nonce or not hmac.compare_digest(mac, expected) or nonce in spent:
            return False
        now = time.time()
        for old in [n for n, until in spent.items() if until <= now] if len(spent) > 1000 else ():
            del spent[old]
        spent[nonce] = admission.flow.expires_at
        return True

    async def approve(request: Request) -> Response:
        flow_id = request.path_params["flow_id"]
        unknown = page("Link not valid", "This approval link is not known here.", _BACK, status_code=404)
        if len(flow_id) > 64:
            return unknown
        refused = _not_a_persons(request, expected=fetch_metadata_expected)
        if refused is not None:  # before the link is bound: an agent's fetch must not take it from the person
            logger.info("approval %s: refused a request %s", flow_ref(flow_id), refused)
            return page(
                "Open this link in your browser",
                "An approval is answered by a person: open the link your "
                "app showed you in your web browser, read the call there and press a button.",
                f"Nothing was decided ({refused}).",
                status_code=403,
            )
        if gate is not None:  # who the browser's session says: the call's user, or sign in first, or refused
            known = await service.vault.get_flow(flow_id)
            instead = await gate(request, known) if isinstance(known, ApprovalFlow) else None
            if instead is not None:
                return instead
        # only opening the link binds it to a browser; a post from a browser without its cookie decides nothing
        admission = await flows.open_in_browser(flow_id, request.cookies, bind=request.method == "GET")
        if admission is None or not isinstance(admission.flow, ApprovalFlow):
            return unknown
        flow = admission.flow
        open_now = flow.status in (*_UNANSWERED, "exchanging") and not flow.is_expired(time.time())
        if not admission.ours:
            logger.info("approval %s: a browser other than its own opened the link", flow_ref(flow.id))
            if open_now and request.method != "GET":
                return page(
                    "Opened in another browser",
                    "This approval can only be answered in the browser that opened its link; nothing was decided.",
                    _BACK,
                    status_code=403,
                )
            if open_now:
                return other_browser_page(flow)
            return page(
                "Link no longer valid", "This approval was already answered or has expired.", _BACK, status_code=410
            )
        if flow.status not in _UNANSWERED or not open_now:
            return _answered(flow)
        if request.method == "GET":
            token = form_token(admission, request.cookies)
            return flows.set_browser_cookie(await _question(flow, token), admission)

        form = await request.form(max_files=0, max_fields=4)
        if not spend(form.get("csrf"), admission, request.cookies):
            return page(
                "Open the link again",
                "This form was not sent from the page this browser was shown, or was already sent once.",
                "Open the approval link again and decide there.",
                status_code=403,
            )
        if form.get("decision") != "approve":
            # A no is taken from the link's browser without verifying who is there: it only stops a call, which
            # whoever holds the link could do anyway by never approving it (and a call can always be asked again).
            return await _decline(flow)
        if flows.verifies_users:
            return await _verify_then_grant(flow)
        if await decide_approval(service.vault, flow.id, approve=True) is None:
            return _already_decided()
        _audit(flow, "approval.granted", "granted")
        return _approved()

    async def _about(flow: ApprovalFlow) -> str:
        """What the tool is and does (its title and description), and which provider and account it acts on."""
        definition = catalog.get(flow.tool)
        if definition is None:
            return ""
        tool = f"{definition.title} ({definition.api_name})" if definition.title else definition.api_name
        what = definition.description.strip().split("\n\n")[0] or "(no description)"
        requirement = definition.requirement
        if requirement is None:
            acts_on = "No account at a provider" + (
                f": it uses the server's {', '.join(definition.secrets)}" if definition.secrets else ""
            )
        else:
            provider = service.providers.get(requirement.id)
            connection = await service.vault.get_connection(flow.user_id, requirement.id)
            account = account_label(connection.user_info) if connection else "not connected yet"
            acts_on = f"{provider.name if provider else requirement.id}, account {account}"
        return _ABOUT.format(tool=escape(tool), what=escape(" ".join(what.split())), acts_on=escape(acts_on))

    async def _question(flow: ApprovalFlow, token: str) -> Response:
        description = await read_description(service.vault, flow.id) or flow.tool
        if not flows.verifies_users:
            then = "Read what it will do, then approve or decline."
        elif flow.status in ("awaiting_verification", "awaiting_browser"):
            then = (
                f"You approved it, but it counts only once you confirm you are {flow.user_id}: finish that, or "
                f"approve again to be sent there once more, or decline."
            )
        else:
            then = (
                f"Read what it will do, then approve or decline. To approve, you then confirm you are {flow.user_id}."
            )
        response = page(
            "Approve this call?",
            f"An app wants to act for you ({flow.user_id}). {then}",
            extra=await _about(flow)
            + _FORM.format(description=_described(description), action=escape(f"/approve/{flow.id}"), csrf=token),
            tone="wait",  # a question waiting for the person, not a success
            form_targets=flows.verification_origins,
        )
        response.headers.update(_HEADERS)
        return response

    async def _decline(flow: ApprovalFlow) -> Response:
        if await decide_approval(service.vault, flow.id, approve=False, from_statuses=_UNANSWERED) is None:
            return _already_decided()
        _audit(flow, "approval.declined", "declined")
        return page(
            "Declined",
            "The tool will not run: your app is told so the next time it calls.",
            "You can close this tab.",
            tone="declined",
        )

    async def _verify_then_grant(flow: ApprovalFlow) -> Response:
        """Hold the yes and send the browser to show who is there (again, with a fresh confirmation, if it was
        already sent once: the previous one stops working)."""
        description = await read_description(service.vault, flow.id) or ""
        try:
            url = await flows.hold_for_verification(flow, {"description": description}, from_status=flow.status)
        except CallbackError:
            return _already_decided()
        logger.info("approval %s: approved, waiting for the user to be verified", flow_ref(flow.id))
        return RedirectResponse(url, status_code=303, headers=_HEADERS)

    def _audit(flow: ApprovalFlow, event: str, outcome: str) -> None:
        service.audit.record(
            event,
            user_id=flow.user_id,
            tool=flow.tool,
            actor="user",
            outcome=outcome,
            detail="on a page",
            flow_ref=flow_ref(flow.id),
        )

    return [Route("/approve/{flow_id}", retry_page_on_outage(approve), methods=["GET", "POST"])]
