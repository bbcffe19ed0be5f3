"""The few HTML pages a person sees in the browser: plain, escaped, never cached, never leaking a referrer."""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

__all__ = ["BROWSER_HEADERS", "page"]

BROWSER_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title} · authmcp</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.4rem}}.ok{{color:#1a7f37}}.fail{{color:#b42318}}</style></head>
<body><h1 class="{tone}">{title}</h1><p>{message}</p></body></html>
"""


def page(title: str, message: str, *, status_code: int = 200) -> HTMLResponse:
    """A page with one heading and one paragraph; both are escaped here."""
    tone = "ok" if status_code < 400 else "fail"
    html = _TEMPLATE.format(title=escape(title), message=escape(message), tone=tone)
    return HTMLResponse(html, status_code=status_code, headers=BROWSER_HEADERS)
