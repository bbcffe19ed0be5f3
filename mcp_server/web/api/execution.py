"""`POST /v1/tools/execute`: what the MCP gate does for a call, through the same orchestration (`ToolCalls`),
answered in Arcade's terms."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError, to_jsonable_python
from starlette.requests import Request

from mcp_server.calls.catalog import Catalog, ToolDefinition
from mcp_server.calls.orchestration import AuthorizationExpired, AuthorizationNeeded, SecretNeeded, ToolCalls
from mcp_server.errors import (
    OAuthError,
    ProviderNotConfigured,
    ProviderUnavailable,
    StorageUnavailable,
    ToolExecutionError,
)
from mcp_server.toolkit.tool import OAuth2
from mcp_server.web.api.auth import flow_answer
from mcp_server.web.api.edge import ApiError, problems, read_body
from mcp_server.web.api.models import ErrorKind, ExecuteToolResponse, ToolError, ToolExecuteRequest, ToolOutput
from mcp_server.web.api.outcomes import failure, tool_error
from mcp_server.web.api.tools import find_tool

__all__ = ["ExecuteEndpoint"]

logger = logging.getLogger(__name__)


class ExecuteEndpoint:
    def __init__(self, catalog: Catalog, calls: ToolCalls) -> None:
        self.catalog = catalog
        self.calls = calls
        self.service = calls.service

    async def execute(self, request: Request) -> BaseModel:
        body = await read_body(request, ToolExecuteRequest)
        if body.run_at is not None:
            raise ApiError(
                400, "not_supported", "authmcp runs tools at once and does not schedule them; leave out run_at."
            )
        definition = find_tool(self.catalog, body.tool_name)
        started = time.perf_counter()
        output = await self.run(definition, body.user_id, body.input or {})
        success = output.error is None
        execution_id = secrets.token_urlsafe(16)
        return ExecuteToolResponse(
            id=execution_id,
            execution_id=execution_id,
            finished_at=datetime.now(UTC).isoformat(),
            duration=round((time.perf_counter() - started) * 1000, 3),
            status="success" if success else "failed",
            success=success,
            output=output,
        )

    async def run(self, definition: ToolDefinition, user_id: str, raw: Mapping[str, Any]) -> ToolOutput:
        """What the MCP gate does for a call, answered in Arcade's terms."""
        try:
            arguments = definition.validate_arguments(raw)
        except ValidationError as exc:
            return failure("TOOL_RUNTIME_BAD_INPUT_VALUE", f"Invalid input for {definition.api_name}: {problems(exc)}.")
        requirement = definition.requirement
        try:
            step = await self.calls.prepare(user_id, definition)
            if isinstance(step, SecretNeeded):
                return failure("TOOL_REQUIREMENTS_NOT_MET", step.refusal)
            if isinstance(step, AuthorizationNeeded):
                provider = self.service.connections.provider(step.requirement.id)
                self.service.audit.record(
                    "tool.call",
                    user_id=user_id,
                    tool=definition.api_name,
                    provider_id=step.requirement.id,
                    actor="user",
                    outcome="authorization_required",
                )
                return await self.authorization_required(
                    user_id,
                    step.requirement,
                    "TOOL_REQUIREMENTS_NOT_MET",
                    f"Authorization required: {definition.api_name} acts on the user's {provider.name} account. "
                    "Send the user to output.authorization.url, then execute again.",
                )
            approvals = self.calls.approvals
            if approvals is not None and self.calls.needs_approval(definition):
                pending = await approvals.by_page(user_id, definition, raw)
                if pending is not None:
                    return ToolOutput(
                        authorization=flow_answer(self.service.flows, pending),
                        error=ToolError(
                            kind="TOOL_REQUIREMENTS_NOT_MET",
                            can_retry=True,
                            message=f"Approval required: the user must approve this call of {definition.api_name} "
                            "at output.authorization.url, then execute again with the same input.",
                        ),
                    )
            value = await self.calls.execute(user_id, definition, step, arguments)
        except AuthorizationExpired as exc:
            assert requirement is not None
            return await self.authorization_required(
                user_id,
                requirement,
                "UPSTREAM_RUNTIME_AUTH_ERROR",
                f"{exc} Send the user to output.authorization.url, then execute again.",
            )
        except ProviderNotConfigured as exc:
            return failure("TOOL_REQUIREMENTS_NOT_MET", str(exc))
        except (ProviderUnavailable, OAuthError) as exc:
            return failure(
                "UPSTREAM_RUNTIME_SERVER_ERROR",
                f"Could not renew the user's authorization: {exc}. Try again in a moment.",
                can_retry=True,
            )
        except ToolExecutionError as exc:
            return ToolOutput(error=tool_error(exc))
        except StorageUnavailable:
            raise  # a 503 for the whole request (`_endpoint`): the client retries it
        except Exception:
            logger.exception("tool %s failed unexpectedly (API call for user %r)", definition.api_name, user_id)
            return failure(
                "TOOL_RUNTIME_FATAL", f"{definition.api_name} failed unexpectedly; the details are in authmcp's log."
            )
        try:
            return ToolOutput(value=to_jsonable_python(value))
        except PydanticSerializationError:
            return failure(
                "TOOL_RUNTIME_BAD_OUTPUT_VALUE", f"{definition.api_name} returned a value that cannot be sent as JSON."
            )

    async def authorization_required(
        self, user_id: str, requirement: OAuth2, kind: ErrorKind, message: str
    ) -> ToolOutput:
        flow = await self.service.flows.start_flow(user_id, requirement)
        return ToolOutput(
            authorization=flow_answer(self.service.flows, flow),
            error=ToolError(kind=kind, message=message, can_retry=True),
        )
