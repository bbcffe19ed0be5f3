"""The HTML pages a person sees in the browser: one small template, escaped, never cached.

Every page says what happened (one sentence) and what to do next (one sentence), under a clear title.
`page()` is the template; the functions below it are the pages of an authorization flow.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from html import escape
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from mcp_server.errors import StorageUnavailable
from mcp_server.vault import Flow
from mcp_server.vault.flow_records import SecretFlow
from mcp_server.vault.flow_store import REPLACED

__all__ = [
    "BROWSER_HEADERS",
    "SERVER_NAME",
    "STYLE",
    "Tone",
    "account_label",
    "expired_page",
    "flow_page",
    "lifetime",
    "not_found_handler",
    "other_browser_page",
    "page",
    "retry_page_on_outage",
    "secret_form",
]

logger = logging.getLogger(__name__)

BROWSER_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    # a link id in our URLs never reaches another site (providers, your app). The price: Chromium posts our
    # own secret form with `Origin: null`, which hosts.py lets through for that one route, where a CSRF token
    # bound to the flow's browser cookie is what proves the form is ours (web/routes.py).
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action {targets}; frame-ancestors 'none'"

SERVER_NAME = "authmcp"
Tone = Literal["ok", "wait", "declined", "fail"]  # success, waiting, declined, error: each its own colour

# The one stylesheet of every page (inline: the pages are never cached, and CSP then needs no other origin).
STYLE = (
    "*{box-sizing:border-box}"
    "body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:0 auto;padding:1rem;color:#1f2328}"
    "header{font-weight:600;color:#57606a;border-bottom:1px solid #d0d7de;padding-bottom:.4rem;margin-bottom:1rem}"
    "header a{color:inherit;text-decoration:none}"
    "h1{font-size:1.4rem;margin:.5rem 0;padding-left:.6rem;border-left:.35rem solid}"
    ".ok h1{color:#1a7f37}.wait h1{color:#9a6700}.declined h1{color:#57606a}.fail h1{color:#b42318}"
    "#next{font-weight:600}"
    "button{font:inherit;padding:.5rem 1rem;margin:.25rem .25rem .25rem 0;min-height:2.75rem}"
    "input{font:inherit;padding:.4rem;width:100%}"
    "code,li,td{overflow-wrap:anywhere}"
    "pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap}"
    ".call,.about{background:#f6f8fa;padding:.6rem 1rem;border-radius:6px;margin:1rem 0}"
    "dt{font-weight:600}dd{margin:0 0 .4rem}"
    ".table{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.9rem}"
    "td,th{text-align:left;padding:.3rem;border-bottom:1px solid #d0d7de;vertical-align:top}"
    "[role=status]{background:#dafbe1;padding:.4rem .6rem;border-radius:6px}"
)

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{head_title}</title><style>{style}</style></head>
<body><header><a href="/">{server}</a></header><main class="{tone}"><h1>{title}</h1>
<p id="what">{message}</p><p id="next">{next_step}</p>{extra}</main></body></html>
"""


# what the provider's profile calls the account, most telling first (OpenID Connect's claims, then GitHub's `login`)
_ACCOUNT_CLAIMS = ("email", "preferred_username", "login", "name", "sub")


def account_label(profile: Mapping[str, Any]) -> str:
    """The account a connection acts on, as its provider's profile names it ("-" when it names none)."""
    found = (profile.get(claim) for claim in _ACCOUNT_CLAIMS)
    return next((str(value) for value in found if isinstance(value, (str, int)) and str(value)), "-")


def page(
    title: str,
    message: str,
    next_step: str = "",
    *,
    status_code: int = 200,
    extra: str = "",
    tone: Tone | None = None,
    form_targets: Sequence[str] = (),
) -> HTMLResponse:
    """One heading, what happened, what to do next; all escaped here (`extra` is trusted markup).

    `form_targets`: origins a form on the page may end up at besides ours (CSP form-action also governs where
    a form's response redirects).
    """
    tone = tone or ("ok" if status_code < 300 else "wait" if status_code == 409 else "fail")
    head_title = title if SERVER_NAME in title else f"{title} · {SERVER_NAME}"
    html = _TEMPLATE.format(
        head_title=escape(head_title),
        style=STYLE,
        server=SERVER_NAME,
        title=escape(title),
        message=escape(message),
        next_step=escape(next_step),
        tone=tone,
        extra=extra,
    )
    headers = {**BROWSER_HEADERS, "Content-Security-Policy": _CSP.format(targets=" ".join(["'self'", *form_targets]))}
    return HTMLResponse(html, status_code=status_code, headers=headers)


_SECRET_FORM = """<form method="post" action="{action}" autocomplete="off">
<input type="hidden" name="csrf" value="{csrf}">
<p><label>{name}<br>
<input type="password" name="value" required maxlength="{max_length}"></label></p>
<p><button type="submit">Save</button></p></form>"""


def secret_form(
    flow: SecretFlow,
    action: str,
    *,
    csrf: str,
    max_length: int,
    error: str | None = None,
    form_targets: Sequence[str] = (),
) -> HTMLResponse:
    """The page where a user types a secret a tool needs, saying for which account and which tool."""
    name = flow.name
    asked = f"The tool {flow.tool}" if flow.tool else "A tool"
    message = error or f"{asked} needs your {name}, for the account {flow.user_id!r}."
    form = _SECRET_FORM.format(action=escape(action), csrf=escape(csrf), name=escape(name), max_length=max_length)
    return page(
        f"Enter your {name}",
        message,
        "Type it below and press Save: it is stored encrypted and never shown to the model.",
        status_code=400 if error else 200,
        extra=form,
        tone="wait" if not error else "fail",
        form_targets=form_targets,
    )


def flow_page(flow: Flow, provider_name: str) -> HTMLResponse:
    """What the flow's own browser is told about a flow that is not waiting for it any more."""
    back = "Go back to your app and try the tool again for a new link."
    if flow.status == "completed" and isinstance(flow, SecretFlow):
        return page(
            f"{flow.name} saved",
            "It is stored encrypted for your account.",
            "You can close this tab and go back to your app.",
        )
    if flow.status == "completed":
        return page(
            f"Connected to {provider_name}",
            f"authmcp can now act on your {provider_name} account for the tools you use.",
            "You can close this tab and go back to your app.",
        )
    if flow.status == "awaiting_verification":
        return page(
            "Almost done",
            "Your app still has to confirm who you are; nothing is connected yet.",
            "Go back to your app and sign in there to finish.",
            status_code=409,
        )
    if flow.status == "awaiting_browser":
        return page(
            "Almost done",
            "Your app has confirmed who you are; nothing is connected yet.",
            "Follow the link your app shows you, in this browser, to finish.",
            status_code=409,
        )
    if flow.status == "failed":
        return _failed(flow, back)
    if flow.is_expired(time.time()):
        return expired_page(flow, back)
    return page(
        "Not finished",
        "This authorization is still in progress.",
        "Finish it at the provider, or open the link again.",
        status_code=409,
    )


def lifetime(seconds: float) -> str:
    """A link's lifetime in words: "60 seconds", "10 minutes", "1 hour"."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= 2 * size or (seconds >= size and seconds % size == 0):
            count = round(seconds / size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    count = max(1, round(seconds))
    return f"{count} second{'s' if count != 1 else ''}"


def expired_page(flow: Flow, back: str) -> HTMLResponse:
    """The link's own lifetime, as it was made, not a guess."""
    valid = lifetime(flow.expires_at - flow.created_at)
    return page("Link expired", f"This link was valid for {valid} and that time has passed.", back, status_code=410)


def _failed(flow: Flow, back: str) -> HTMLResponse:
    error = flow.error or "The authorization did not complete."
    if error == "expired":
        return expired_page(flow, back)
    if error == REPLACED:
        return page(
            "Link replaced",
            "A newer link was made for the same account, so this one no longer works.",
            "Use the newest link your app gave you, or try the tool again.",
            status_code=410,
        )
    if "declined" in error:
        return page(
            "Access declined",
            error,
            "If that was a mistake, try the tool again in your app.",
            status_code=400,
            tone="declined",
        )
    return page("Authorization failed", error, back, status_code=400)


def other_browser_page(flow: Flow) -> HTMLResponse:
    """What any other browser is told about a flow: whether the link still works, and nothing else."""
    if flow.status == "completed":
        return page(
            "Already connected",
            "This link was already used and the authorization is complete.",
            "Nothing more to do here: go back to your app.",
        )
    back = "Go back to your app and try the tool again for a new link."
    if flow.status == "failed" and flow.error in ("expired", REPLACED):
        return _failed(flow, back)
    if flow.status != "failed" and flow.is_expired(time.time()):
        return expired_page(flow, back)
    if flow.status == "failed":
        return page(
            "Link no longer valid",
            "This link cannot be used any more.",
            "Go back to your app and try the tool again for a new link.",
            status_code=410,
        )
    return page(
        "Opened in another browser",
        "This link was already opened in another browser, so it can only be finished there.",
        "Finish it in that browser, or go back to your app and try the tool again for a new link.",
        status_code=409,
    )


def not_found_handler(*, home: bool) -> Callable[[Request, Exception], Awaitable[Response]]:
    """A path that is not ours (404), or a method a path of ours does not take (405): a page for a browser
    (linking home, when this server has one), JSON for a program (the `/v1` API answers its own paths).
    `home`: whether `/` is a page here (single-user mode)."""
    next_step = "Check the address, or go to the home page." if home else "Go back to your app and follow its link."

    async def not_found(request: Request, exc: Exception) -> Response:
        wanted_html = "text/html" in request.headers.get("accept", "")
        if getattr(exc, "status_code", 404) == 405:
            if wanted_html:
                response: Response = page(
                    "Not allowed here",
                    "This address of authmcp does not take that kind of request.",
                    next_step,
                    status_code=405,
                    extra='<p><a href="/">Home</a></p>' if home else "",
                )
            else:
                message = "This authmcp address does not take that method."
                response = JSONResponse(
                    {"name": "method_not_allowed", "message": message}, status_code=405, headers=BROWSER_HEADERS
                )
            response.headers.update(getattr(exc, "headers", None) or {})  # its Allow
            return response
        if not wanted_html:
            message = "This authmcp server has nothing at this path."  # never the path itself: nothing reflected
            return JSONResponse({"name": "not_found", "message": message}, status_code=404, headers=BROWSER_HEADERS)
        return page(
            "Page not found",
            "authmcp has no page at this address.",
            next_step,
            status_code=404,
            extra='<p><a href="/">Home</a></p>' if home else "",
        )

    return not_found


def retry_page_on_outage(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """A database that is briefly away answers a page saying to try again, never an internal error.

    A form's answer says to go back and send it again: reloading would make the browser ask to resubmit.
    """

    @functools.wraps(handler)
    async def route(request: Request) -> Response:
        try:
            return await handler(request)
        except StorageUnavailable as exc:
            logger.warning("%s page: %s", handler.__name__, exc)  # not the path: it holds a link's id
            again = (
                "Reload this page in a few seconds."
                if request.method == "GET"
                else "Nothing was changed. Go back and send the form again in a few seconds."
            )
            return page("Try again in a moment", f"authmcp is busy right now. {again}", status_code=503)

    return route
