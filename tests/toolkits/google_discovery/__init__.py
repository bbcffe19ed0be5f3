"""Checks of requests and stand-in responses against Google's discovery documents (gmail v1, calendar v3, drive v3).

`discovery.json` is an excerpt of the documents shipped in google-api-python-client 2.202.0 (its `source` key
says which parts): per method the HTTP method, path, query parameters and OAuth scopes; per schema the
property structure. The toolkits' tests use it so that every request a tool sends is one Google documents,
with a scope Google accepts for it, and every fixture has only fields the schema defines.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx2

__all__ = ["assert_documented", "assert_shape", "method"]

DISCOVERY: dict[str, Any] = json.loads((Path(__file__).parent / "discovery.json").read_text())


def method(api: str, method_id: str) -> dict[str, Any]:
    return DISCOVERY["apis"][api]["methods"][method_id]


def _path_pattern(api: str, method_id: str) -> re.Pattern[str]:
    """The request paths a stand-in may see: Gmail's paths hang from the host, Calendar's and Drive's from the
    base URL the tests set (the service path is what `api_base_url` replaces); a method taking media also has
    its upload path (`/upload` in front)."""
    entry = method(api, method_id)
    template = "[^/]+".join(re.escape(part) for part in re.split(r"\{\+?[A-Za-z]+\}", "/" + entry["path"]))
    return re.compile(f"(?:/upload)?{template}" if "uploadPath" in entry else template)


def assert_documented(request: httpx2.Request, api: str, method_id: str, scopes: tuple[str, ...]) -> None:
    """`request` is `method_id` as the discovery document describes it, and `scopes` holds one it accepts."""
    entry = method(api, method_id)
    assert request.method == entry["httpMethod"], (method_id, request.method)
    assert _path_pattern(api, method_id).fullmatch(request.url.path), (method_id, request.url.path)
    allowed = set(entry["query"]) | set(DISCOVERY["apis"][api]["standardQuery"])
    sent = {name for name, _ in request.url.params.multi_items()}
    assert sent <= allowed, (method_id, sorted(sent - allowed))
    assert set(scopes) & set(entry["scopes"]), (method_id, scopes)


def assert_shape(value: Any, api: str, schema: str) -> None:
    """Every field of `value` (recursively) is a property of the discovery schema `schema`."""
    _check(value, {"$ref": schema}, DISCOVERY["apis"][api]["schemas"], schema)


def _check(value: Any, spec: dict[str, Any], schemas: dict[str, Any], where: str) -> None:
    if "$ref" in spec:
        spec = schemas[spec["$ref"]]
    if isinstance(value, dict):
        properties = spec.get("properties")
        if properties is None:
            extra = spec.get("additionalProperties")
            assert extra is not None, f"{where} is not an object in the schema"
            for key, item in value.items():
                _check(item, extra, schemas, f"{where}[{key}]")
            return
        for key, item in value.items():
            assert key in properties, f"{where}.{key} is not in the discovery schema"
            _check(item, properties[key], schemas, f"{where}.{key}")
    elif isinstance(value, list):
        assert spec.get("type") == "array", f"{where} is not an array in the schema"
        for item in value:
            _check(item, spec["items"], schemas, f"{where}[]")
