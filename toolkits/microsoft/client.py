"""HTTP helpers for Microsoft Graph v1.0 and the conversions between Graph's resources and what a model reads.

Reference: https://learn.microsoft.com/en-us/graph/api/overview?view=graph-rest-1.0 (the resources and their
properties are those of Graph's metadata, https://github.com/microsoftgraph/msgraph-metadata).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mcp_server import ToolContext, ToolExecutionError, email_addresses, html_to_text, raise_for_upstream_status

if TYPE_CHECKING:
    import httpx2

API_BASE_URL = "https://graph.microsoft.com/v1.0"

# Graph answers every time in UTC when asked (outlook.timezone), so no Windows zone name has to be mapped.
PREFER_UTC = {"Prefer": 'outlook.timezone="UTC"'}

# Past this many characters a body or file is cut, with a note saying so.
MAX_TEXT_CHARS = 4000
# Upper bound on the pages a list call follows, whatever the answer asks for.
MAX_PAGES = 5

# Graph ids: base64url-ish message and event ids ("AAMkAGI2...="), GUIDs, Teams thread ids
# ("19:...@thread.v2"), drive item ids ("01BYE5RZ...", "D4648F06C91D9D3D!54927"). Nothing that would change
# the path: no "/", "?", "#", "%" or spaces, and not only dots ("..", which URL normalization would resolve).
_ID = re.compile(r"[A-Za-z0-9_\-=+.:@!]{1,512}")


def base_url(context: ToolContext) -> str:
    return (context.get_setting("api_base_url", API_BASE_URL) or API_BASE_URL).rstrip("/")


async def send(
    context: ToolContext,
    method: str,
    path: str,
    *,
    what: str,
    params: dict[str, Any] | None = None,
    json: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    follow_redirects: bool = False,
) -> httpx2.Response:
    """Call `path` (under the Graph base URL, or a full `@odata.nextLink` URL) with the user's token.

    With `follow_redirects`, a redirect to another host (a file download) is followed without the token: httpx
    drops the Authorization header when the origin changes.
    """
    if context.http is None:
        raise ToolExecutionError("The tool was called without an HTTP client; authmcp passes one on every call.")
    url = path if path.startswith(("http://", "https://")) else f"{base_url(context)}{path}"
    response = await context.http.request(
        method,
        url,
        params=params,
        json=json,
        headers={
            "Authorization": f"Bearer {context.get_auth_token_or_empty()}",
            "Accept": "application/json",
            **(headers or {}),
        },
        follow_redirects=follow_redirects,
    )
    return raise_for_upstream_status(response, what=what)


async def request(context: ToolContext, method: str, path: str, *, what: str, **options: Any) -> dict[str, Any]:
    """`send` (same options), and the JSON object of the answer ({} for an empty one)."""
    response = await send(context, method, path, what=what, **options)
    if not response.content:
        return {}
    data = response.json()
    return data if isinstance(data, dict) else {}


async def list_items(
    context: ToolContext,
    path: str,
    *,
    what: str,
    limit: int,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """Up to `limit` items of a collection, following `@odata.nextLink` for at most MAX_PAGES pages.

    Returns the items and whether more were left behind. A next link is followed only on the configured Graph
    host: the user's token never goes anywhere else.
    """
    items: list[dict[str, Any]] = []
    url, query = path, params
    for _ in range(MAX_PAGES):
        page = await request(context, "GET", url, what=what, params=query, headers=headers)
        items.extend(item for item in page.get("value") or [] if isinstance(item, dict))
        next_link = page.get("@odata.nextLink")
        if len(items) >= limit or not isinstance(next_link, str):
            return items[:limit], len(items) > limit or isinstance(next_link, str)
        if not next_link.startswith(base_url(context) + "/"):
            return items, True
        url, query = next_link, None  # the link carries every query parameter of the first request
    return items[:limit], True


# ---- validation -------------------------------------------------------------------------------------------


def check_id(value: str, kind: str, tool_hint: str) -> str:
    """A Graph id as given, or a ToolExecutionError saying where a good one comes from."""
    value = (value or "").strip()
    if not _ID.fullmatch(value) or not value.strip("."):
        raise ToolExecutionError(
            f"{kind} {value!r} is not a Microsoft Graph id; pass the id exactly as {tool_hint} returned it."
        )
    return value


def check_text(value: str | None, name: str, *, required: bool = True, maximum: int = 100_000) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ToolExecutionError(f"{name} is empty; give the text.")
    if len(text) > maximum:
        raise ToolExecutionError(f"{name} is {len(text)} characters long; give at most {maximum}.")
    return text


def recipients(values: Iterable[object] | None, name: str, *, required: bool = False) -> list[dict[str, Any]]:
    """Graph `recipient` objects for the checked addresses."""
    addresses = email_addresses(values, name=name)
    if required and not addresses:
        raise ToolExecutionError(f"Give at least one {name}, e.g. ['ana@example.com'].")
    return [{"emailAddress": {"address": address}} for address in addresses]


def check_window(start: datetime, end: datetime, *, max_days: int) -> None:
    if end <= start:
        raise ToolExecutionError(f"The end {end.isoformat()} must be later than the start {start.isoformat()}.")
    if end - start > timedelta(days=max_days):
        raise ToolExecutionError(f"The time range is longer than {max_days} days; ask for a shorter range.")


def graph_time(moment: datetime) -> dict[str, str]:
    """A Graph `dateTimeTimeZone` in UTC."""
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def graph_query_time(moment: datetime) -> str:
    """A time for a query parameter such as calendarView's startDateTime (ISO 8601 in UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- incoming resources -----------------------------------------------------------------------------------


def iso_time(value: object) -> str | None:
    """ISO 8601 with zone from a Graph DateTimeOffset ("2021-03-28T20:48:29.832Z") or dateTimeTimeZone."""
    if isinstance(value, dict):
        text, zone_name = str(value.get("dateTime") or ""), str(value.get("timeZone") or "UTC")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return text or None
        if parsed.tzinfo is None:
            try:
                parsed = parsed.replace(tzinfo=UTC if zone_name.upper() in {"UTC", "ETC/UTC"} else ZoneInfo(zone_name))
            except (ZoneInfoNotFoundError, ValueError):
                return f"{parsed.replace(microsecond=0).isoformat()} ({zone_name})"  # a Windows zone name
        return parsed.replace(microsecond=0).isoformat()
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value).replace(microsecond=0).isoformat()
        except ValueError:
            return value
    return None


def address_of(recipient: object) -> str:
    """'Name <address>' (or just the address) of a Graph recipient."""
    email = (recipient or {}).get("emailAddress") or {} if isinstance(recipient, dict) else {}
    name, address = str(email.get("name") or ""), str(email.get("address") or "")
    return f"{name} <{address}>" if name and address and name != address else address or name


def addresses_of(values: object) -> list[str]:
    return [address_of(v) for v in values or [] if isinstance(v, dict)] if isinstance(values, list) else []


def truncate(text: str, limit: int = MAX_TEXT_CHARS) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    return f"{text[:limit]}\n[... truncated: {len(text) - limit} more characters not shown]", True


def body_text(body: object) -> str:
    """A Graph `itemBody` as plain text: HTML turned into text, text kept."""
    if not isinstance(body, dict):
        return ""
    content = str(body.get("content") or "")
    if str(body.get("contentType", "")).lower() == "html":
        return html_to_text(content)
    return content.replace("\r\n", "\n").strip()
