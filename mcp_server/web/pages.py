"""The few HTML pages a person sees in the browser: plain, escaped, never cached, never leaking a referrer."""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

__all__ = ["BROWSER_HEADERS", "page", "secret_form"]

BROWSER_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
}

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title} · authmcp</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.4rem}}.ok{{color:#1a7f37}}.fail{{color:#b42318}}</style></head>
<body><h1 class="{tone}">{title}</h1><p>{message}</p>{extra}</body></html>
"""

_SECRET_FORM = """<form method="post" action="{action}" autocomplete="off">
<p><label>{name}<br><input type="password" name="value" required maxlength="{max_length}" style="width:100%"></label></p>
<p><button type="submit">Save</button></p></form>"""


def page(title: str, message: str, *, status_code: int = 200, extra: str = "") -> HTMLResponse:
    """A page with one heading and one paragraph; both are escaped here (`extra` is trusted markup)."""
    tone = "ok" if status_code < 400 else "fail"
    html = _TEMPLATE.format(title=escape(title), message=escape(message), tone=tone, extra=extra)
    return HTMLResponse(html, status_code=status_code, headers=BROWSER_HEADERS)


def secret_form(name: str, action: str, *, max_length: int, error: str | None = None) -> HTMLResponse:
    """The page where a user types a secret a tool needs; the value is posted back to `action`."""
    message = error or f"A tool needs your {name}. It is stored encrypted and never shown to the model."
    form = _SECRET_FORM.format(action=escape(action), name=escape(name), max_length=max_length)
    return page(f"Enter your {name}", message, status_code=400 if error else 200, extra=form)
