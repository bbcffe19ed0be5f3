"""The edge of the `/v1` API: who calls (API keys), what they sent (bodies and queries, bounded), and every
answer and refusal in Arcade's shapes (`arcadepy.types.shared.Error`), routing's own 404 and 405 included."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_server.errors import StorageUnavailable
from mcp_server.web.api.models import ErrorBody

__all__ = [
    "MAX_BODY_BYTES",
    "ApiError",
    "ArcadeErrors",
    "Handler",
    "check_key",
    "endpoint",
    "json_response",
    "problems",
    "read_body",
    "read_query",
]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[Request], Awaitable[BaseModel | None]]


class ApiError(Exception):
    """A refusal in Arcade's error shape."""

    def __init__(self, status_code: int, name: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.name = name
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return json_response(ErrorBody(name=self.name, message=self.message), self.status_code, self.headers)


def json_response(model: BaseModel, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    # pydantic, not json.dumps: a tool's NaN becomes null instead of an exception
    return Response(
        model.model_dump_json(),
        status_code=status_code,
        headers={"Cache-Control": "no-store", **(headers or {})},
        media_type="application/json",
    )


def problems(exc: ValidationError) -> str:
    """What is wrong, field by field, without echoing the values sent."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        field = ".".join(str(p) for p in error["loc"])
        parts.append(f"{field}: {error['msg']}" if field else str(error["msg"]))
    return "; ".join(parts)


def check_key(keys: Sequence[bytes], request: Request) -> None:
    """Arcade's clients send the key bare (`Authorization: <key>`); others send `Bearer <key>`: take both."""
    if not keys:
        raise ApiError(
            401,
            "unauthorized",
            "The /v1 API is off: no API keys are configured. Set [api] keys in "
            "authmcp's configuration (or AUTHMCP_API__KEYS) and send one as 'Authorization: Bearer <key>'.",
        )
    header = request.headers.get("authorization", "").strip()
    scheme, _, rest = header.partition(" ")
    presented = (rest.strip() if scheme.lower() == "bearer" else header).encode()
    if not presented or not any(hmac.compare_digest(presented, key) for key in keys):
        raise ApiError(
            401,
            "unauthorized",
            "Send a valid API key from [api] keys as 'Authorization: Bearer <key>' (with arcadepy: ARCADE_API_KEY).",
            {"WWW-Authenticate": "Bearer"},
        )


async def read_body(request: Request, model: type[M]) -> M:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, "request_too_large", f"The request body is over {MAX_BODY_BYTES} bytes; send less.")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY_BYTES:
            raise ApiError(413, "request_too_large", f"The request body is over {MAX_BODY_BYTES} bytes; send less.")
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            raise ApiError(
                400,
                "invalid_json",
                "The request body is not valid JSON; send a JSON object with Content-Type: application/json.",
            ) from None
        raise ApiError(400, "invalid_request", f"The request body is not valid: {problems(exc)}.") from None


def read_query(request: Request, model: type[M]) -> M:
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise ApiError(400, "invalid_request", f"The query is not valid: {problems(exc)}.") from None


def endpoint(keys: Sequence[bytes], handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """`handler` behind the key check, its answer as JSON (204 for none), its refusals in Arcade's shape."""

    async def respond(request: Request) -> Response:
        try:
            check_key(keys, request)
            answer = await handler(request)
            return json_response(answer) if answer is not None else Response(status_code=204)
        except ApiError as exc:
            return exc.response()
        except StorageUnavailable as exc:  # passes by itself: retryable, never a 500
            logger.warning("%s %s: %s", request.method, request.url.path, exc)
            return ApiError(
                503,
                "storage_unavailable",
                f"{exc}. Nothing was lost: retry the request in a moment.",
                {"Retry-After": "2"},
            ).response()

    return respond


class ArcadeErrors:
    """Routing's own refusals (404 for an unknown path, 405 for a wrong method) in Arcade's error shape too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except HTTPException as exc:
            if exc.status_code == 405:
                allowed = (exc.headers or {}).get("Allow", "another method")
                error = ApiError(405, "method_not_allowed", f"This path takes {allowed}.", exc.headers)
            elif exc.status_code == 404:
                error = ApiError(
                    404, "not_found", "There is no such path in the /v1 API; see docs/api.md for the endpoints."
                )
            else:
                error = ApiError(exc.status_code, "http_error", exc.detail)
            await error.response()(scope, receive, send)
