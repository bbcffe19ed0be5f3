"""How a toolkit author declares a tool: `@tool`, requirement objects, and the `ToolContext` a tool receives."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar, overload

from mcp_server._http import httpx2
from mcp_server.errors import ToolExecutionError
from mcp_server.toolkit.hints import ToolHints

__all__ = [
    "Airtable",
    "Asana",
    "Atlassian",
    "Box",
    "Discord",
    "Dropbox",
    "Figma",
    "GitHub",
    "GitLab",
    "Google",
    "Hubspot",
    "Linear",
    "Microsoft",
    "Notion",
    "OAuth2",
    "Reddit",
    "Salesforce",
    "Slack",
    "Spotify",
    "ToolAuthorization",
    "ToolContext",
    "ToolDeclaration",
    "X",
    "Zoom",
    "tool",
]

DECLARATION_ATTRIBUTE = "__authmcp_tool__"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, kw_only=True)
class OAuth2:
    """A tool needs an OAuth 2.0 token from provider `id` carrying at least `scopes`.

    `id` names a provider from the catalogue (`google`, `github`, ...) or one configured under
    `[providers.<id>]`. The named subclasses (`Google`, `GitHub`, ...) default `id` to their catalogue entry;
    give another `id` to use a second app of the same kind (`Google(id="work-google", scopes=[...])`).
    """

    id: str
    scopes: Sequence[str] = ()
    provider_type: ClassVar[str] = "oauth2"

    def __post_init__(self) -> None:
        if isinstance(self.scopes, str):
            raise TypeError(f"scopes must be a list of strings, not the string {self.scopes!r}")
        object.__setattr__(self, "scopes", tuple(self.scopes))


@dataclass(frozen=True, kw_only=True)
class Google(OAuth2):
    id: str = "google"
    provider_type: ClassVar[str] = "google"


@dataclass(frozen=True, kw_only=True)
class GitHub(OAuth2):
    id: str = "github"
    provider_type: ClassVar[str] = "github"


@dataclass(frozen=True, kw_only=True)
class Slack(OAuth2):
    id: str = "slack"
    provider_type: ClassVar[str] = "slack"


@dataclass(frozen=True, kw_only=True)
class Microsoft(OAuth2):
    id: str = "microsoft"
    provider_type: ClassVar[str] = "microsoft"


@dataclass(frozen=True, kw_only=True)
class Zoom(OAuth2):
    id: str = "zoom"
    provider_type: ClassVar[str] = "zoom"


@dataclass(frozen=True, kw_only=True)
class Notion(OAuth2):
    id: str = "notion"
    provider_type: ClassVar[str] = "notion"


@dataclass(frozen=True, kw_only=True)
class Linear(OAuth2):
    id: str = "linear"
    provider_type: ClassVar[str] = "linear"


@dataclass(frozen=True, kw_only=True)
class Dropbox(OAuth2):
    id: str = "dropbox"
    provider_type: ClassVar[str] = "dropbox"


@dataclass(frozen=True, kw_only=True)
class Atlassian(OAuth2):
    id: str = "atlassian"
    provider_type: ClassVar[str] = "atlassian"


@dataclass(frozen=True, kw_only=True)
class Asana(OAuth2):
    id: str = "asana"
    provider_type: ClassVar[str] = "asana"


@dataclass(frozen=True, kw_only=True)
class Hubspot(OAuth2):
    id: str = "hubspot"
    provider_type: ClassVar[str] = "hubspot"


@dataclass(frozen=True, kw_only=True)
class Spotify(OAuth2):
    id: str = "spotify"
    provider_type: ClassVar[str] = "spotify"


@dataclass(frozen=True, kw_only=True)
class Discord(OAuth2):
    id: str = "discord"
    provider_type: ClassVar[str] = "discord"


@dataclass(frozen=True, kw_only=True)
class GitLab(OAuth2):
    id: str = "gitlab"
    provider_type: ClassVar[str] = "gitlab"


@dataclass(frozen=True, kw_only=True)
class Salesforce(OAuth2):
    id: str = "salesforce"
    provider_type: ClassVar[str] = "salesforce"


@dataclass(frozen=True, kw_only=True)
class Figma(OAuth2):
    id: str = "figma"
    provider_type: ClassVar[str] = "figma"


@dataclass(frozen=True, kw_only=True)
class X(OAuth2):
    id: str = "x"
    provider_type: ClassVar[str] = "x"


@dataclass(frozen=True, kw_only=True)
class Reddit(OAuth2):
    id: str = "reddit"
    provider_type: ClassVar[str] = "reddit"


@dataclass(frozen=True, kw_only=True)
class Box(OAuth2):
    id: str = "box"
    provider_type: ClassVar[str] = "box"


@dataclass(frozen=True, kw_only=True)
class Airtable(OAuth2):
    id: str = "airtable"
    provider_type: ClassVar[str] = "airtable"


@dataclass(frozen=True)
class ToolDeclaration:
    """What `@tool` records on a function; the catalog turns it into a served tool."""

    fn: Callable[..., Any]
    name: str | None
    description: str | None
    requires_auth: OAuth2 | None
    requires_secrets: tuple[str, ...]
    title: str | None = None
    read_only: bool | None = None
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None


@overload
def tool(func: F, /) -> F: ...
@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    requires_auth: OAuth2 | None = None,
    requires_secrets: Sequence[str] = (),
    title: str | None = None,
    read_only: bool | None = None,
    destructive: bool | None = None,
    idempotent: bool | None = None,
    open_world: bool | None = None,
    hints: ToolHints | None = None,
) -> Callable[[F], F]: ...
def tool(
    func: F | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    requires_auth: OAuth2 | None = None,
    requires_secrets: Sequence[str] = (),
    title: str | None = None,
    read_only: bool | None = None,
    destructive: bool | None = None,
    idempotent: bool | None = None,
    open_world: bool | None = None,
    hints: ToolHints | None = None,
) -> F | Callable[[F], F]:
    """Mark a function as a tool. Works bare (`@tool`) and with arguments.

    The function is returned unchanged, so it can be called directly in unit tests. Its docstring (or
    `description`) becomes the tool's description; parameters annotated `Annotated[T, "text"]` get "text" as
    their description. A parameter annotated `ToolContext` receives the call's context and is not part of
    the input schema.

    Args:
        name: The tool name; default: the function name in PascalCase.
        description: Overrides the docstring.
        requires_auth: The OAuth 2.0 provider and scopes the tool needs, e.g. `Google(scopes=[...])`.
        requires_secrets: Names of secrets the tool reads with `context.get_secret(name)`.
        title: A human-readable name clients may show instead of the tool name.
        read_only: The tool only reads; it changes nothing anywhere (MCP `readOnlyHint`).
        destructive: The tool may delete or overwrite something, or act irreversibly for the user (sending
            an email, cancelling a meeting) (MCP `destructiveHint`; meaningful only when not read-only).
        idempotent: Calling it again with the same arguments has no further effect (MCP `idempotentHint`).
        open_world: The tool reaches beyond the server, e.g. a third-party service (MCP `openWorldHint`).
        hints: The four hints at once, as one of the named sets (`READS`, `ADDS`, `SETS`, `OVERWRITES`, `ACTS`)
            or a `ToolHints`; instead of the four keywords, not beside them.

    The hints are what MCP calls tool annotations; a hint left as None is not sent, so clients assume the
    specification's default (not read-only, destructive, not idempotent, open world).
    """
    if isinstance(requires_secrets, str):
        raise TypeError(f"requires_secrets must be a list of names, not the string {requires_secrets!r}")
    if hints is not None:
        if (read_only, destructive, idempotent, open_world) != (None, None, None, None):
            raise TypeError("give the hints either as hints=... or as read_only=, destructive=, ..., not both")
        read_only, destructive, idempotent = hints.read_only, hints.destructive, hints.idempotent
        open_world = hints.open_world

    def mark(fn: F) -> F:
        declaration = ToolDeclaration(
            fn,
            name,
            description,
            requires_auth,
            tuple(requires_secrets),
            title=title,
            read_only=read_only,
            destructive=destructive,
            idempotent=idempotent,
            open_world=open_world,
        )
        setattr(fn, DECLARATION_ATTRIBUTE, declaration)
        return fn

    return mark(func) if func is not None else mark


def declaration_of(obj: object) -> ToolDeclaration | None:
    """The declaration `@tool` attached to `obj`, if any."""
    declaration = getattr(obj, DECLARATION_ATTRIBUTE, None)
    return declaration if isinstance(declaration, ToolDeclaration) else None


@dataclass(frozen=True)
class ToolAuthorization:
    """The user's authorization at the tool's provider, as the tool sees it."""

    provider_id: str
    token: str = field(repr=False)
    scopes: tuple[str, ...] = ()
    user_info: Mapping[str, Any] = field(default_factory=dict)
    #: Token-response fields the provider's catalogue entry keeps (`token_extras`), e.g. Salesforce's
    #: `extras["instance_url"]`, the API host of the user's org.
    extras: Mapping[str, str] = field(default_factory=dict)
    #: How the provider's API reports failures (`error_style`); `raise_for_upstream_status(..., context=)` reads it.
    error_style: str = "http"


@dataclass(frozen=True)
class ToolContext:
    """What a tool knows about the call it serves: who the user is, their token, the secrets it declared,
    its toolkit's settings, and the HTTP client to reach the provider with.

    `http` is a shared `httpx2.AsyncClient` with authmcp's timeout (set on every call authmcp makes; a unit
    test gives its own, e.g. over `httpx2.MockTransport`). `settings` are the `[toolkit_settings.<toolkit>]`
    values of the configuration, e.g. an API base URL pointing at a stand-in server.
    """

    user_id: str
    authorization: ToolAuthorization | None = None
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    settings: Mapping[str, str] = field(default_factory=dict)
    http: httpx2.AsyncClient | None = field(default=None, repr=False, compare=False)

    def get_setting(self, name: str, default: str | None = None) -> str | None:
        """A value from the toolkit's `[toolkit_settings.<toolkit>]` table, else `default`."""
        return self.settings.get(name, default)

    def get_auth_token_or_empty(self) -> str:
        """The user's access token for the tool's provider, or "" when the tool requires none."""
        return self.authorization.token if self.authorization is not None else ""

    def get_secret(self, name: str) -> str:
        """The value of a secret the tool declared in `requires_secrets`.

        Raises:
            ToolExecutionError: The tool did not declare this secret.
        """
        try:
            return self.secrets[name]
        except KeyError:
            raise ToolExecutionError(
                f"The tool asked for the secret {name!r} but did not declare it; "
                f"add it to @tool(requires_secrets=[...])."
            ) from None
