"""The signed-in person's pages with `[front_door]`: `/` and Your connections, behind the front door's sign-in.

The same pages as the local user's (web/home.py), for whoever the browser's session says: a browser without a
session signs in first and comes back. Your connections lists the person's accounts at providers and the MCP
clients they approved, each with a Revoke form (a CSRF token derived from the session cookie, and the page's
own Origin, as on the consent page). Revoking a client ends every grant of it for this person at once.
"""

from __future__ import annotations

import hashlib
import hmac
from html import escape
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mcp_server.authorization.service import AuthorizationService
from mcp_server.front_door.provider import FrontDoor
from mcp_server.front_door.sign_in import SignIn
from mcp_server.web.front_door import SignInFirst, session_cookie_name
from mcp_server.web.home import connections_section, when_text
from mcp_server.web.pages import BROWSER_HEADERS, page, retry_page_on_outage

__all__ = ["create_signed_in_home_routes"]

_CLIENT_ROW = (
    "<tr><td>{name}</td><td>{where}</td><td>{since}</td>"
    '<td><form method="post" action="/connections/clients/revoke"><input type="hidden" name="client_id" '
    'value="{client_id}"><input type="hidden" name="csrf" value="{csrf}"><button type="submit">Revoke</button>'
    "</form></td></tr>"
)
_CLIENT_TABLE = (
    "<h2>Apps connected to authmcp</h2><table><thead><tr><th>App</th><th>Sends you back to</th>"
    "<th>Approved</th><th></th></tr></thead><tbody>{rows}</tbody></table>"
)


def create_signed_in_home_routes(
    service: AuthorizationService, door: FrontDoor, sign_in: SignIn, *, csrf_key: bytes
) -> list[Route]:
    cookie = session_cookie_name(door.issuer)
    sign_in_first = SignInFirst(door, sign_in)

    def csrf_token(session: str) -> str:
        return hmac.new(csrf_key, f"connections|{session}".encode(), hashlib.sha256).hexdigest()

    async def signed_in(request: Request) -> tuple[str, str] | None:
        session = request.cookies.get(cookie)
        user = await door.store.session_user(session) if session else None
        return (session, user) if session and user else None

    async def home(request: Request) -> Response:
        who = await signed_in(request)
        if who is None:
            return await sign_in_first("/")
        return page(
            "authmcp",
            f"This is authmcp, the server that lets your AI apps use tools acting on your accounts. You are signed "
            f"in as {who[1]!r}.",
            "Open Your connections to see the accounts and apps that act for you, and revoke any of them.",
            extra='<p><a href="/connections">Your connections</a>: your accounts and the apps you connected, each '
            "with a button to revoke it.</p>",
        )

    async def connections(request: Request) -> Response:
        who = await signed_in(request)
        if who is None:
            return await sign_in_first("/connections")
        session, user = who
        csrf = csrf_token(session)
        revoked = request.query_params.get("revoked", "")
        message, accounts, next_step = await connections_section(service, user, csrf, revoked)
        rows = []
        for client_id, since in await door.store.approved_clients(user):
            client = await door.get_client(client_id)
            uris = [str(u) for u in (client.redirect_uris or [])] if client else []
            rows.append(
                _CLIENT_ROW.format(
                    name=escape((client.client_name if client else None) or "An app without a name"),
                    where=escape(", ".join(sorted({urlsplit(u).netloc or u for u in uris})) or "-"),
                    since=escape(when_text(since)),
                    client_id=escape(client_id),
                    csrf=escape(csrf),
                )
            )
        apps = _CLIENT_TABLE.format(rows="".join(rows)) if rows else "<p>No app is connected to authmcp as you.</p>"
        response = page("Your connections", message, next_step, extra=accounts + apps + '<p><a href="/">Home</a></p>')
        response.headers["Referrer-Policy"] = "same-origin"  # keep the Origin on the Revoke posts
        return response

    async def checked(request: Request) -> tuple[str, dict[str, str]] | Response:
        form = await request.form(max_files=0, max_fields=4)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        who = await signed_in(request)
        if who is None or not hmac.compare_digest(fields.get("csrf", ""), csrf_token(who[0])):
            return page(
                "Not revoked",
                "This form has expired or was not sent from this browser's sign-in; nothing was revoked.",
                "Open Your connections again and press Revoke there.",
                status_code=403,
                extra='<p><a href="/connections">Your connections</a></p>',
            )
        return who[1], fields

    async def revoke_account(request: Request) -> Response:
        outcome = await checked(request)
        if isinstance(outcome, Response):
            return outcome
        provider_id = request.path_params["provider_id"][:100]
        await service.connections.disconnect(outcome[0], provider_id)
        return RedirectResponse(
            f"/connections?revoked={quote(provider_id, safe='')}", status_code=303, headers=BROWSER_HEADERS
        )

    async def revoke_client(request: Request) -> Response:
        outcome = await checked(request)
        if isinstance(outcome, Response):
            return outcome
        user, fields = outcome
        await door.store.revoke_grants(user_id=user, client_id=fields.get("client_id", "")[:2048])
        return RedirectResponse("/connections", status_code=303, headers=BROWSER_HEADERS)

    return [
        Route("/", retry_page_on_outage(home), methods=["GET"]),
        Route("/connections", retry_page_on_outage(connections), methods=["GET"]),
        Route("/connections/clients/revoke", retry_page_on_outage(revoke_client), methods=["POST"]),
        Route("/connections/{provider_id}/revoke", retry_page_on_outage(revoke_account), methods=["POST"]),
    ]
