"""Failures a provider reports inside an HTTP 2xx answer, read by the provider's `error_style` (catalogue data).

`"http"`: the status says it all. `"ok_flag"` is Slack's Web API convention
(https://docs.slack.dev/apis/web-api/#responses): every answer is a JSON object whose `ok` is true on success;
on failure `ok` is false, `error` holds a code, and `missing_scope` adds the `needed` scopes. Revocation and
the toolkits' `raise_for_upstream_status` both read answers through here, so the convention lives in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from mcp_server._http import httpx2

__all__ = ["AnswerError", "answer_error"]

ErrorKind = Literal["auth", "rate_limited", "not_found", "missing_scope", "transient", "other"]

# Slack's codes for a refused token, and for failures on its side that may pass
# (https://docs.slack.dev/apis/web-api/#errors and each method's error list).
_AUTH_CODES = frozenset({"not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive"})
_TRANSIENT_CODES = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})
_CODE = re.compile(r"[a-z0-9_.:]{1,64}")


@dataclass(frozen=True)
class AnswerError:
    """A failure the provider reported in a 2xx answer, in words safe to show (codes only, never free text)."""

    code: str
    needed: str | None = None  # scopes the provider says the token lacks (comma separated)

    @property
    def kind(self) -> ErrorKind:
        if self.code in _AUTH_CODES:
            return "auth"
        if self.code == "ratelimited":
            return "rate_limited"
        if self.code == "missing_scope":
            return "missing_scope"
        if self.code.endswith("_not_found"):
            return "not_found"
        if self.code in _TRANSIENT_CODES:
            return "transient"
        return "other"


def _safe(value: object) -> str | None:
    text = str(value or "")
    return text if _CODE.fullmatch(text.replace(",", "")) else None


def answer_error(style: str, response: httpx2.Response) -> AnswerError | None:
    """The failure a successful-status answer reports by the provider's convention, or None if it reports none.

    With "ok_flag", an answer that is not a JSON object with `"ok": true` is a failure: `invalid_response` when it
    is not such an object at all, `unknown_error` when its code is not one.
    """
    if style != "ok_flag":
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "ok" not in body:
        return AnswerError("invalid_response")
    if body["ok"] is True:
        return None
    return AnswerError(_safe(body.get("error")) or "unknown_error", needed=_safe(body.get("needed")))
