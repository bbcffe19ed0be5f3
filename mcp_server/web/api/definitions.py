"""Tool definitions in Arcade's terms: parameters, value schemas, requirements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import (
    PydanticSchemaGenerationError,
    TypeAdapter,
)

from mcp_server.calls.catalog import ToolDefinition
from mcp_server.web.api.models import (
    ArcadeToolDefinition,
    InputParameter,
    Requirements,
    ToolInputs,
    Toolkit,
    ToolOutputSchema,
    ValueSchema,
)

__all__ = ["arcade_definition"]

# ---------------------------------------------------------------- tool definitions in Arcade's terms

_VAL_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean", "array": "array"}


def _value_schema(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> ValueSchema:
    """A JSON schema as Arcade's value schema; anything without an Arcade type of its own is `json`."""
    schema = _resolve(schema, defs)
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if len(options) == 1:  # Optional[X]: describe X
        schema = _resolve(options[0], defs)
    val_type = _VAL_TYPES.get(schema.get("type", ""), "json")
    values = schema["enum"] if "enum" in schema else [schema["const"]] if "const" in schema else None
    inner = None
    if val_type == "array":
        inner = _VAL_TYPES.get(_resolve(schema.get("items", {}), defs).get("type", ""), "json")
    return ValueSchema(val_type=val_type, inner_val_type=inner, enum=[str(v) for v in values] if values else None)


def _resolve(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved: Mapping[str, Any] = defs.get(ref.removeprefix("#/$defs/"), {})
        return resolved
    return schema


def _output_schema(definition: ToolDefinition) -> ToolOutputSchema | None:
    annotation = definition.signature.return_annotation
    if annotation is definition.signature.empty:
        return None
    try:
        schema = TypeAdapter(annotation).json_schema()
    except (PydanticSchemaGenerationError, TypeError, ValueError):  # not describable as JSON; the tool still runs
        return ToolOutputSchema()
    return ToolOutputSchema(value_schema=_value_schema(schema, schema.get("$defs", {})))


def arcade_definition(definition: ToolDefinition) -> ArcadeToolDefinition:
    """What does not depend on the user: names, parameters, output. Requirements are filled per request."""
    schema = definition.input_schema
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    parameters = [
        InputParameter(
            name=name,
            required=name in required,
            description=prop.get("description"),
            value_schema=_value_schema(prop, defs),
        )
        for name, prop in schema.get("properties", {}).items()
    ]
    return ArcadeToolDefinition(
        fully_qualified_name=definition.api_name,  # Arcade appends "@<toolkit version>"; authmcp has none
        qualified_name=definition.api_name,
        name=definition.name,
        description=definition.description,
        toolkit=Toolkit(name=definition.toolkit),
        input=ToolInputs(parameters=parameters),
        output=_output_schema(definition),
        requirements=Requirements(),
    )
