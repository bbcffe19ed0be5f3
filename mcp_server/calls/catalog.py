"""The catalog: loads toolkits, validates each `@tool` declaration, and holds one ToolDefinition per tool.

A declaration that cannot be served (unknown provider, no description, duplicate name, a parameter the JSON
schema cannot express) is refused at load time with a message naming the toolkit, the tool and the problem.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import keyword
import pkgutil
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import anyio.to_thread
from mcp.server.mcpserver.exceptions import InvalidSignature
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata, func_metadata
from mcp.shared.inbound import find_invalid_x_mcp_header
from pydantic import Field, PydanticUserError, create_model

from mcp_server.calls.schema_cache import FILE_NAME, SchemaCache, ToolkitSchemas
from mcp_server.errors import DeclarationError
from mcp_server.providers import ProviderRegistry
from mcp_server.toolkit.tool import OAuth2, ToolContext, ToolDeclaration, declaration_of

__all__ = ["Catalog", "ToolDefinition", "load_catalog", "pascal_case", "unknown_provider"]

META_KEY = "authmcp/requirements"
_SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def pascal_case(name: str) -> str:
    """`list_emails` -> `ListEmails`, `google_drive` -> `GoogleDrive`; already-Pascal names are kept."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\-\s]+", name) if part)


@dataclass(frozen=True)
class ToolDefinition:
    """One servable tool: its names, its requirements, and how to call it."""

    toolkit: str
    name: str
    description: str
    fn: Callable[..., Any]
    signature: inspect.Signature  # the parameters a caller passes: the context parameter removed
    context_parameter: str | None
    requirement: OAuth2 | None
    secrets: tuple[str, ...]
    # what `tools/list` serves, derived at load time or read from the schema cache (schema_cache.py)
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    title: str | None = None
    hints: Mapping[str, bool] = field(default_factory=dict)  # MCP tool annotations, by their protocol names

    @cached_property
    def _is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.fn)

    @cached_property
    def metadata(self) -> FuncMetadata:
        """The SDK's view of the parameters and the result (arguments model, result conversion), as the gate
        uses it: derived at load time, or on the tool's first call when its schemas came from the cache."""
        return func_metadata(_carrying(self.fn.__name__, self.signature))

    @property
    def arguments_model(self) -> type[ArgModelBase]:
        return self.metadata.arg_model

    def validate_arguments(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments checked and converted against the tool's parameters (unknown keys are dropped).

        Raises:
            pydantic.ValidationError: An argument is missing or has the wrong type.
        """
        return self.arguments_model.model_validate(dict(arguments)).model_dump_one_level()

    @property
    def mcp_name(self) -> str:
        return f"{self.toolkit}_{self.name}"

    @property
    def api_name(self) -> str:
        return f"{self.toolkit}.{self.name}"

    def meta(self) -> dict[str, Any]:
        """What `tools/list` shows of the requirements in `_meta`: names only, never values."""
        requirements: dict[str, Any] = {}
        if self.requirement is not None:
            requirements["authorization"] = {
                "provider_id": self.requirement.id,
                "provider_type": self.requirement.provider_type,
                "scopes": list(self.requirement.scopes),
            }
        if self.secrets:
            requirements["secrets"] = list(self.secrets)
        return {META_KEY: requirements}

    async def invoke(self, context: ToolContext, arguments: Mapping[str, Any]) -> Any:
        """Call the tool function; a sync function runs in a worker thread."""
        kwargs = dict(arguments)
        if self.context_parameter is not None:
            kwargs[self.context_parameter] = context
        if self._is_async:  # read once: inspect costs a microsecond a call
            return await self.fn(**kwargs)
        return await anyio.to_thread.run_sync(lambda: self.fn(**kwargs))


class Catalog:
    """Every loaded tool, found by its MCP name (`Gmail_ListEmails`) or API name (`Gmail.ListEmails`)."""

    def __init__(self, tools: Iterable[ToolDefinition] = ()):
        self._tools: dict[str, ToolDefinition] = {}
        for definition in tools:
            self.add(definition)

    def add(self, definition: ToolDefinition) -> None:
        if definition.mcp_name in self._tools:
            raise DeclarationError(
                f"Toolkit {definition.toolkit!r}, tool {definition.name!r}: another tool already has the name "
                f"{definition.api_name}; rename one with @tool(name=...) or set TOOLKIT_NAME in one module."
            )
        self._tools[definition.mcp_name] = definition

    def get(self, name: str) -> ToolDefinition | None:
        return self._tools.get(name) or self._tools.get(name.replace(".", "_", 1))

    def __iter__(self) -> Iterator[ToolDefinition]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)


def unknown_provider(provider_id: str) -> str:
    """What to say of a provider that is neither catalogued nor configured, and what to do about it."""
    return (
        f"provider {provider_id!r} is neither in the catalogue nor configured; add [providers.{provider_id}] "
        f"with authorize_url, token_url, client_id and client_secret to the configuration"
    )


def bundled_toolkits() -> list[str]:
    """The toolkit packages shipped in `toolkits/`."""
    import toolkits

    return sorted(f"toolkits.{m.name}" for m in pkgutil.iter_modules(toolkits.__path__) if not m.name.startswith("_"))


def load_catalog(
    specs: Iterable[str],
    providers: ProviderRegistry,
    *,
    unknown_providers: bool = False,
    cache_dir: Path | None = None,
) -> Catalog:
    """Import each toolkit (a module name or a path to a `.py` file) and validate its tools.

    `unknown_providers`: keep a tool whose provider is neither catalogued nor configured (for `authmcp tools`,
    which lists it as not ready) instead of refusing the toolkit, as serving does. `cache_dir`: where the tools'
    schemas are kept between starts (schema_cache.py); without it every schema is derived.

    Raises:
        DeclarationError: A toolkit cannot be imported or declares a tool that cannot be served.
    """
    catalog = Catalog()
    cache = SchemaCache(cache_dir / FILE_NAME) if cache_dir is not None else None
    for spec in specs:
        module = _import_toolkit(spec)
        schemas = ToolkitSchemas(cache, module)
        toolkit = getattr(module, "TOOLKIT_NAME", None) or pascal_case(module.__name__.rsplit(".", 1)[-1])
        if not isinstance(toolkit, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", toolkit):
            raise DeclarationError(
                f"Toolkit {spec!r}: TOOLKIT_NAME {toolkit!r} must be letters and digits, starting with a letter."
            )
        seen: set[int] = set()
        for _, value in sorted(vars(module).items()):
            declaration = declaration_of(value)
            if declaration is None or id(declaration.fn) in seen:
                continue
            seen.add(id(declaration.fn))
            catalog.add(_define(toolkit, declaration, providers, unknown_providers, schemas))
    if cache is not None:
        cache.save()
    return catalog


def _import_toolkit(spec: str) -> ModuleType:
    try:
        if spec.endswith(".py") or "/" in spec or "\\" in spec:
            path = Path(spec).expanduser().resolve()
            if not path.is_file():
                raise DeclarationError(f"Toolkit {spec!r}: no such file.")
            name = path.stem
            module_spec = importlib.util.spec_from_file_location(name, path)
            if module_spec is None or module_spec.loader is None:
                raise DeclarationError(f"Toolkit {spec!r}: cannot be loaded as a Python module.")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
            return module
        return importlib.import_module(spec)
    except DeclarationError:
        raise
    except ModuleNotFoundError as exc:
        raise DeclarationError(
            f"Toolkit {spec!r} cannot be imported: {exc}. Give an importable module name or a path to a .py file."
        ) from exc
    except Exception as exc:  # the toolkit's own import-time code failed
        raise DeclarationError(f"Toolkit {spec!r} failed while importing: {type(exc).__name__}: {exc}") from exc


def _define(
    toolkit: str,
    declaration: ToolDeclaration,
    providers: ProviderRegistry,
    unknown_providers: bool,
    schemas: ToolkitSchemas,
) -> ToolDefinition:
    fn = declaration.fn
    name = declaration.name or pascal_case(fn.__name__)
    where = f"Toolkit {toolkit!r}, tool {name!r}"

    def refuse(problem: str) -> DeclarationError:
        return DeclarationError(f"{where}: {problem}")

    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name):
        raise refuse("the name must be letters and digits, starting with a letter (it becomes Toolkit_Tool).")
    description = inspect.cleandoc(declaration.description or fn.__doc__ or "")
    if not description:
        raise refuse("it has no description; add a docstring saying what the tool does and returns.")

    requirement = declaration.requires_auth
    if requirement is not None:
        if not isinstance(requirement, OAuth2):
            raise refuse("requires_auth must be an OAuth2(...) requirement such as Google(scopes=[...]).")
        provider = providers.get(requirement.id)
        if provider is None and not unknown_providers:
            raise refuse(f"requires_auth: {unknown_provider(requirement.id)}.")
        if (
            provider is not None
            and requirement.provider_type != "oauth2"
            and provider.type != requirement.provider_type
        ):
            raise refuse(
                f"requires_auth is {type(requirement).__name__}(id={requirement.id!r}), but provider "
                f"{requirement.id!r} is configured as type {provider.type!r}."
            )
        for scope in requirement.scopes:
            if not isinstance(scope, str) or not scope or any(c.isspace() or c == "," for c in scope):
                raise refuse(f"scope {scope!r} must be a non-empty string without spaces or commas.")

    for secret in declaration.requires_secrets:
        if not isinstance(secret, str) or not _SECRET_NAME.fullmatch(secret):
            raise refuse(f"secret name {secret!r} must be letters, digits and underscores, like SERPAPI_KEY.")

    signature, context_parameter, fields = _parameters(fn, refuse)
    metadata, schema, output_schema = schemas.of(
        f"{toolkit}_{name}", f"{fn.__name__}{signature}", lambda: _derive(fn.__name__, signature, fields, refuse)
    )
    if (reason := find_invalid_x_mcp_header(schema)) is not None:
        raise refuse(f"its parameters carry an invalid x-mcp-header annotation: {reason}")
    title, hints = _annotations(declaration, refuse)
    definition = ToolDefinition(
        toolkit=toolkit,
        name=name,
        description=description,
        fn=fn,
        signature=signature,
        context_parameter=context_parameter,
        requirement=requirement,
        secrets=tuple(dict.fromkeys(declaration.requires_secrets)),
        input_schema=schema,
        output_schema=output_schema,
        title=title,
        hints=hints,
    )
    if metadata is not None:  # derived just now: the first call need not derive it again
        definition.__dict__["metadata"] = metadata
    return definition


_HINTS = {
    "read_only": "readOnlyHint",
    "destructive": "destructiveHint",
    "idempotent": "idempotentHint",
    "open_world": "openWorldHint",
}


def _annotations(
    declaration: ToolDeclaration, refuse: Callable[[str], DeclarationError]
) -> tuple[str | None, dict[str, bool]]:
    """The tool's title and MCP annotation hints, checked: booleans only, and no read-only destructive tool."""
    title = declaration.title
    if title is not None and (not isinstance(title, str) or not title.strip() or len(title) > 100):
        raise refuse("title must be a non-empty string of at most 100 characters.")
    hints: dict[str, bool] = {}
    for argument, hint in _HINTS.items():
        value = getattr(declaration, argument)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise refuse(f"{argument} must be True or False, not {value!r}.")
        hints[hint] = value
    if hints.get("readOnlyHint") and hints.get("destructiveHint"):
        raise refuse("a tool cannot be both read_only and destructive; a read-only tool changes nothing.")
    return (title.strip() if title else None), hints


def _parameters(
    fn: Callable[..., Any], refuse: Callable[[str], DeclarationError]
) -> tuple[inspect.Signature, str | None, dict[str, Any]]:
    """The caller-facing signature (descriptions as pydantic Fields), the context parameter, and the
    parameters' annotations by name."""
    try:
        hints = get_type_hints(fn, include_extras=True)
    except Exception as exc:
        raise refuse(f"its type annotations cannot be resolved ({exc}).") from None
    signature = inspect.signature(fn)
    context_parameter: str | None = None
    parameters: list[inspect.Parameter] = []
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        annotation = hints.get(param.name, inspect.Parameter.empty)
        if annotation is ToolContext:
            context_parameter = param.name
            continue
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise refuse(f"parameter {param.name!r}: *args and **kwargs cannot be described to a model.")
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise refuse(f"parameter {param.name!r} is positional-only; tools are called with named arguments.")
        if param.name.startswith("_") or keyword.iskeyword(param.name):
            raise refuse(f"parameter {param.name!r}: names starting with '_' cannot be tool parameters.")
        if annotation is inspect.Parameter.empty:
            raise refuse(f"parameter {param.name!r} has no type annotation; add one, e.g. `{param.name}: str`.")
        annotation = _describe(annotation)
        fields[param.name] = annotation
        parameters.append(param.replace(annotation=annotation))
    return_annotation = hints.get("return", signature.return_annotation)
    return signature.replace(parameters=parameters, return_annotation=return_annotation), context_parameter, fields


def _derive(
    name: str, signature: inspect.Signature, fields: dict[str, Any], refuse: Callable[[str], DeclarationError]
) -> tuple[FuncMetadata, dict[str, Any], dict[str, Any] | None]:
    """The SDK's metadata for the signature (arguments model, output schema), the input and the output schema:
    what `MCPServer.add_tool` would derive from the same signature."""
    try:
        metadata = func_metadata(_carrying(name, signature))
        schema = metadata.arg_model.model_json_schema(by_alias=True)
    except (InvalidSignature, PydanticUserError, TypeError, ValueError) as exc:
        bad = next((n for n, t in fields.items() if not _expressible(t)), None)
        subject = f"parameter {bad!r}" if bad else "its parameters"
        raise refuse(
            f"{subject} cannot be expressed as JSON schema ({type(exc).__name__}); use JSON-like types."
        ) from None
    return metadata, schema, metadata.output_schema


def _carrying(name: str, signature: inspect.Signature) -> Callable[..., Any]:
    """A stand-in with the tool's caller-facing signature, for the SDK to derive the tool's metadata from."""

    async def stand_in(**arguments: Any) -> Any:
        raise NotImplementedError  # never called: only its signature is read

    stand_in.__name__ = name
    stand_in.__signature__ = signature  # type: ignore[attr-defined]
    return stand_in


def _describe(annotation: Any) -> Any:
    """`Annotated[T, "text"]` -> `Annotated[T, Field(description="text")]`, so "text" lands in the schema."""
    if get_origin(annotation) is not Annotated:
        return annotation
    base, *extras = get_args(annotation)
    texts = [e for e in extras if isinstance(e, str)]
    others = [e for e in extras if not isinstance(e, str)]
    if texts:
        others.append(Field(description=" ".join(texts)))
    return Annotated[(base, *others)] if others else base


def _expressible(annotation: Any) -> bool:
    try:
        create_model("probe", value=(annotation, ...)).model_json_schema()
    except (PydanticUserError, TypeError, ValueError):
        return False
    return True
