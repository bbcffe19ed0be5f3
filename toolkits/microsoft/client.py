"""Microsoft Graph v1.0 on the toolkit HTTP layer, and the conversions between Graph's resources and what a model reads.

Reference: https://learn.microsoft.com/en-us/graph/api/overview?view=graph-rest-1.0 (the resources and their
properties are those of Graph's metadata, https://github.com/microsoftgraph/msgraph-metadata).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mcp_server import ProviderAPI, ToolExecutionError, email_addresses, html_to_text, iso_datetime

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


class GraphAPI(ProviderAPI):
    """Microsoft Graph v1.0 for one tool call. A full URL (an `@odata.nextLink`) is followed only on the Graph
    host; with `follow_redirects`, a redirect to another host (a file download) is followed without the token:
    httpx drops the Authorization header when the origin changes."""

    name = "Microsoft Graph"
    default_base_url = API_BASE_URL
    headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}

    async def list_items(
        self,
        path: str,
        *,
        what: str,
        limit: int,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[list[dict[str, Any]], bool]:
        """Up to `limit` items of a collection, following `@odata.nextLink` for at most MAX_PAGES pages.

        Returns the items and whether more were left behind.
        """
        return await self.paginate_links(
            path,
            what=what,
            limit=limit,
            max_pages=MAX_PAGES,
            params=params,
            headers=headers,
            items_key="value",
            next_key="@odata.nextLink",
        )

    async def listing(
        self,
        path: str,
        *,
        key: str,
        shape: Callable[[dict[str, Any]], dict[str, Any]],
        what: str,
        limit: int,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        about: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        top: bool = True,
    ) -> dict[str, Any]:
        """A list tool's answer: `about` (what was listed, e.g. the chat's id), then up to `limit` items of a
        collection, each shaped, under `key`, their `count`, and `truncated` when more were left behind.

        Pages are asked for `limit` items (`$top`), or `page_size` when the collection pages fewer; `top=False`
        for a collection that takes no `$top` (the user's teams, a team's channels)."""
        size = min(limit, page_size) if page_size is not None else limit
        query = {**(params or {}), "$top": size} if top else params
        items, truncated = await self.list_items(path, what=what, limit=limit, params=query, headers=headers)
        shaped = [shape(item) for item in items]
        return {**(about or {}), key: shaped, "count": len(shaped), "truncated": truncated}


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
    return iso_datetime(value, whole_seconds=True)


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
