"""The local user's pages: `/` (what this server is, who you are to it) and `/connections` (see and revoke).

Served only in single-user mode, where everyone who reaches the loopback port acts as the local user anyway
(the same trust as the stdio client). In multi-user mode these pages would first need to know who is in the
browser, a sign-in of their own; until the server has one they are not served (see `server._local_routes`).

Revoke is a form POST protected twice: the Origin must be this server's own (hosts.py; the page sends
`Referrer-Policy: same-origin`, since with `no-referrer` browsers post `Origin: null`), and the form must carry a
CSRF token bound to the browser's session: an HMAC, under a key only this process holds, of a random value in a
`SameSite=Strict`, HttpOnly cookie. Cookies are shared across ports, so a page on another loopback port can set
that cookie; it still cannot compute the token that goes with it. Under https the cookie is `__Host-` and Secure.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from html import escape
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mcp_server.authorization.service import AuthorizationService
from mcp_server.web.pages import BROWSER_HEADERS, account_label, page, retry_page_on_outage

__all__ = ["connections_section", "create_home_routes", "when_text"]

CSRF_COOKIE = "authmcp_csrf"  # "__Host-authmcp_csrf" under https
_MAX_PROVIDER_ID = 100

_ROW = (
    "<tr><td>{name}</td><td>{account}</td><td>{scopes}</td><td>{since}</td><td>{used}</td><td>{status}</td>"
    '<td><form method="post" action="/connections/{provider}/revoke">'
    '<input type="hidden" name="csrf" value="{csrf}"><button type="submit">Revoke</button></form></td></tr>'
)
_TABLE = (
    "<div class=table><table><thead><tr><th>Provider</th><th>Account</th><th>Scopes</th><th>Connected since</th>"
    "<th>Last used</th>"
    "<th>Status</th>"
    "<th></th></tr></thead><tbody>{rows}</tbody></table></div>"
)


def when_text(ts: float | None) -> str:
    if not ts:
        return "never"
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


async def connections_section(
    service: AuthorizationService, user_id: str, csrf: str, revoked: str
) -> tuple[str, str, str]:
    """What Your connections says of `user_id`'s accounts: (the sentence, the table with a Revoke form per row, the
    next step)."""
    await service.connections.flush_touches()  # "last used" as of now, not as of the last periodic write
    rows, _ = await service.vault.list_connections(user_id)
    cells = []
    for row in rows:
        provider = service.providers.get(row["provider_id"])
        cells.append(
            _ROW.format(
                name=escape(provider.name if provider else row["provider_id"]),
                account=escape(account_label(row["user_info"])),
                provider=escape(row["provider_id"]),
                scopes=escape(row["scopes"] or "-"),
                since=when_text(row["created_at"]),
                used=when_text(row["last_used_at"]),
                status="active" if row["status"] == "active" else "needs authorization again",
                csrf=escape(csrf),
            )
        )
    done = service.providers.get(revoked[:_MAX_PROVIDER_ID])
    note = (  # only a provider we know is named back
        f'<p role="status"><strong>Revoked {escape(done.name)}</strong>: authmcp can no longer act on it.</p>'
        if done is not None
        else ""
    )
    if not cells:
        message = "You have not connected any account yet. A tool that needs one will give you a link."
        return message, note, "Go back to your app and call a tool."
    message = "The accounts authmcp may act on for you. Revoke removes one here and at the provider."
    return message, note + _TABLE.format(rows="".join(cells)), "Revoke any account you no longer want authmcp to use."


def _connect_help(mcp_url: str | None) -> str:
    """How to connect a client: to `mcp_url` over HTTP, or (None: this server speaks stdio) with `authmcp install`."""
    if mcp_url is None:
        return (
            "<h2>Connect a client</h2><p>This authmcp speaks MCP over stdio with the app that started it; these "
            "pages are where you finish its links. To add authmcp to an app, run one of:</p>"
            "<pre>.venv/bin/authmcp install claude-desktop\n.venv/bin/authmcp install cursor\n"
            ".venv/bin/authmcp install vscode\n.venv/bin/authmcp install claude-code</pre>"
        )
    url = escape(mcp_url)
    return (
        f'<h2>Connect a client</h2><p>MCP URL (Streamable HTTP): <code id="mcp-url">{url}</code></p>'
        f"<p>Add a server with this URL in your MCP client, for example with Claude Code:</p>"
        f"<pre>claude mcp add --transport http authmcp {url}</pre>"
    )


def create_home_routes(service: AuthorizationService, user_id: str, *, mcp_url: str | None) -> list[Route]:
    """The pages of the single local user `user_id`; `mcp_url`: where clients reach MCP over HTTP (None: stdio)."""
    key = secrets.token_bytes(32)  # a new process: old forms have expired, the page says to open it again
    secure = service.flows.secure_cookies
    cookie_name = f"__Host-{CSRF_COOKIE}" if secure else CSRF_COOKIE

    def form_token(session: str) -> str:
        return hmac.new(key, f"revoke|{session}".encode(), hashlib.sha256).hexdigest()

    async def home(request: Request) -> Response:
        return page(
            "authmcp is running",
            f"authmcp lets your AI apps use tools that act on your accounts. You are the local user {user_id!r}: "
            f"this server answers only on this computer, and every app that uses it acts as you.",
            "Connect an MCP client as shown below, then call a tool: when it needs an account, it gives you a link.",
            extra=_connect_help(mcp_url)
            + '<p><a href="/connections">Your connections</a>: the accounts you have connected, and a '
            "button to revoke each one.</p>",
        )

    async def connections(request: Request) -> Response:
        session = request.cookies.get(cookie_name) or secrets.token_urlsafe(32)
        csrf = form_token(session)
        revoked = request.query_params.get("revoked", "")
        message, extra, next_step = await connections_section(service, user_id, csrf, revoked)
        response = page("Your connections", message, next_step, extra=extra + '<p><a href="/">Home</a></p>')
        # Keep the Origin on the Revoke post (no-referrer would make it "null", which the Host/Origin check
        # refuses); nothing in this page's URL is worth hiding from our own origin.
        response.headers["Referrer-Policy"] = "same-origin"
        response.set_cookie(
            cookie_name,
            session,
            httponly=True,
            samesite="strict",
            secure=secure,
            path="/" if secure else "/connections",
        )
        return response

    async def revoke(request: Request) -> Response:
        provider_id = request.path_params["provider_id"][:_MAX_PROVIDER_ID]
        form = await request.form(max_files=0, max_fields=4)
        token, session = form.get("csrf"), request.cookies.get(cookie_name)
        if not isinstance(token, str) or not session or not hmac.compare_digest(token, form_token(session)):
            return page(
                "Not revoked",
                "This form has expired, so nothing was revoked.",
                "Open Your connections again and press Revoke there.",
                status_code=403,
                extra='<p><a href="/connections">Your connections</a></p>',
            )
        await service.connections.disconnect(
            user_id, provider_id
        )  # unusable at once; revoked at the provider, retried if down
        return RedirectResponse(
            f"/connections?revoked={quote(provider_id, safe='')}", status_code=303, headers=BROWSER_HEADERS
        )

    return [
        Route("/", retry_page_on_outage(home), methods=["GET"]),
        Route("/connections", retry_page_on_outage(connections), methods=["GET"]),
        Route("/connections/{provider_id}/revoke", retry_page_on_outage(revoke), methods=["POST"]),
    ]
