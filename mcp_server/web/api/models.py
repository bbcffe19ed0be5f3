"""The `/v1` API's requests and answers, in the shapes of Arcade's clients (`arcadepy.types`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

# ---------------------------------------------------------------- errors


class ErrorBody(BaseModel):
    name: str
    message: str


# ---------------------------------------------------------------- requests


def _printable(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters such as line breaks")
    return value


def _one_scope(value: str) -> str:
    if any(c.isspace() or c == "," for c in value):
        raise ValueError("each scope is one string without spaces or commas; give several as a list")
    return value


UserId = Annotated[str, StringConstraints(min_length=1, max_length=255), AfterValidator(_printable)]
OAuthScope = Annotated[str, StringConstraints(min_length=1, max_length=256), AfterValidator(_one_scope)]
FlowId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


MAX_OFFSET = 1_000_000  # past any real list, and far below a 64-bit overflow in the database
MAX_INT = 2**31 - 1  # every integer parameter is bounded: out of range is a 400 naming it, never a 500


class Input(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)  # fields Arcade knows and authmcp does not use


class ToolAuthorizeRequest(Input):
    tool_name: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    user_id: UserId
    tool_version: str | None = None  # authmcp serves one version of each tool
    next_uri: str | None = None


class ToolExecuteRequest(Input):
    tool_name: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    user_id: UserId
    input: dict[str, Any] | None = None
    tool_version: str | None = None
    run_at: str | None = None
    include_error_stacktrace: bool | None = None  # never honoured: no stack trace leaves authmcp


class AuthRequirementScopes(Input):
    scopes: list[OAuthScope] = Field(default_factory=list, max_length=100)


class AuthRequirement(Input):
    id: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    provider_id: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    provider_type: str | None = None
    oauth2: AuthRequirementScopes | None = None

    @model_validator(mode="after")
    def _names_a_provider(self) -> AuthRequirement:
        if self.id is None and self.provider_id is None:
            raise ValueError("give provider_id (or id): the provider to authorize with, as configured in authmcp")
        return self


class AuthAuthorizeRequest(Input):
    auth_requirement: AuthRequirement
    user_id: UserId
    next_uri: str | None = None


class ConfirmUserRequest(Input):
    flow_id: FlowId
    user_id: UserId


class StatusQuery(Input):
    id: FlowId
    wait: int = Field(default=0, ge=0, le=MAX_INT)


class ToolListQuery(Input):
    toolkit: str | None = None
    limit: int = Field(default=25, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    user_id: UserId | None = None


class ToolGetQuery(Input):
    user_id: UserId | None = None


# ---------------------------------------------------------------- answers (arcadepy.types)


class HealthSchema(BaseModel):
    healthy: bool


class AuthorizationResponse(BaseModel):
    # No `context`: Arcade puts the user's token in `context.token`; authmcp never returns a third-party token.
    id: str
    status: Literal["not_started", "pending", "completed", "failed"]
    url: str | None = None
    provider_id: str | None = None
    scopes: list[str] | None = None
    user_id: str | None = None
    error: str | None = None  # authmcp's addition: why a failed authorization failed, for the person


class ConfirmUserResponse(BaseModel):
    auth_id: str
    next_uri: str | None = None


ErrorKind = Literal[
    "TOOL_REQUIREMENTS_NOT_MET",
    "TOOL_RUNTIME_BAD_INPUT_VALUE",
    "TOOL_RUNTIME_BAD_OUTPUT_VALUE",
    "TOOL_RUNTIME_RETRY",
    "TOOL_RUNTIME_FATAL",
    "UPSTREAM_RUNTIME_BAD_REQUEST",
    "UPSTREAM_RUNTIME_AUTH_ERROR",
    "UPSTREAM_RUNTIME_NOT_FOUND",
    "UPSTREAM_RUNTIME_VALIDATION_ERROR",
    "UPSTREAM_RUNTIME_RATE_LIMIT",
    "UPSTREAM_RUNTIME_SERVER_ERROR",
    "UPSTREAM_RUNTIME_UNMAPPED",
]


class ToolError(BaseModel):
    kind: ErrorKind
    message: str
    can_retry: bool = False
    retry_after_ms: int | None = None
    status_code: int | None = None


class ToolOutput(BaseModel):
    value: Any = None
    error: ToolError | None = None
    authorization: AuthorizationResponse | None = None


class ExecuteToolResponse(BaseModel):
    id: str
    execution_id: str
    execution_type: Literal["immediate"] = "immediate"
    finished_at: str
    duration: float  # milliseconds
    status: Literal["success", "failed"]
    success: bool
    output: ToolOutput


class ValueSchema(BaseModel):
    val_type: str
    inner_val_type: str | None = None
    enum: list[str] | None = None


class InputParameter(BaseModel):
    name: str
    required: bool
    description: str | None = None
    value_schema: ValueSchema
    inferrable: bool = True


class ToolInputs(BaseModel):
    parameters: list[InputParameter]


class Toolkit(BaseModel):
    name: str
    description: str | None = None
    version: str | None = None


class ToolOutputSchema(BaseModel):
    available_modes: list[str] = ["value", "error"]
    value_schema: ValueSchema | None = None


class OAuth2Scopes(BaseModel):
    scopes: list[str]


class AuthorizationRequirement(BaseModel):
    id: str
    provider_id: str
    provider_type: str
    oauth2: OAuth2Scopes
    status: Literal["active", "inactive"]  # whether this server can authorize with the provider at all
    status_reason: str | None = None
    token_status: Literal["not_started", "pending", "completed", "failed"] | None = None  # for the given user


class SecretRequirement(BaseModel):
    key: str
    met: bool
    status_reason: str | None = None


class Requirements(BaseModel):
    authorization: AuthorizationRequirement | None = None
    secrets: list[SecretRequirement] | None = None
    met: bool | None = None  # None: it depends on a user, and none was named


class ArcadeToolDefinition(BaseModel):
    fully_qualified_name: str
    qualified_name: str
    name: str
    description: str
    toolkit: Toolkit
    input: ToolInputs
    output: ToolOutputSchema | None = None
    requirements: Requirements


class ConnectionListQuery(Input):
    # arcadepy sends the filters as `user[id]=...` and `provider[id]=...`
    user_id: UserId | None = Field(default=None, alias="user[id]")
    provider_id: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        default=None, alias="provider[id]"
    )
    limit: int = Field(default=25, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class UserConnection(BaseModel):
    """arcadepy's `UserConnectionResponse`: a connection, never its tokens."""

    id: str
    connection_id: str
    connection_status: str
    provider_id: str
    provider_type: str | None = None
    provider_description: str | None = None
    provider_user_info: dict[str, Any] | None = None
    scopes: list[str]
    user_id: str


class UserConnectionPage(BaseModel):
    items: list[UserConnection]
    limit: int
    offset: int
    page_count: int
    total_count: int


class ToolPage(BaseModel):
    items: list[ArcadeToolDefinition]
    limit: int
    offset: int
    page_count: int
    total_count: int


# ---------------------------------------------------------------- the audit trail (authmcp's own; Arcade has none)


class AuditListQuery(Input):
    user_id: UserId | None = None
    tool: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    provider_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    since: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None  # 1h, 7d, 2026-11-01
    limit: int = Field(default=25, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=10_000_000)


class AuditEventItem(BaseModel):
    """One event of the trail: names, outcomes and timings; never a token, secret or argument value."""

    at: float
    event: str
    user_id: str | None = None
    tool: str | None = None
    provider_id: str | None = None
    scopes: list[str] = Field(default_factory=list)
    outcome: str | None = None
    error_kind: str | None = None
    duration_ms: float | None = None
    trace_id: str | None = None
    args_digest: str | None = None
    flow_ref: str | None = None
    actor: str | None = None
    detail: str | None = None


class AuditPage(BaseModel):
    items: list[AuditEventItem]
    limit: int
    offset: int
    page_count: int
    total_count: int
