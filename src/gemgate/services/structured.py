"""What generationConfig asks the output to be: free text, JSON (with a schema), or an enum."""

from __future__ import annotations

from typing import Any

from gemgate.core.errors import InvalidArgument
from gemgate.core.ports import ChoiceConstraint, JsonConstraint, OutputConstraint
from gemgate.core.types import GenerationConfig

JSON_MIME = "application/json"
ENUM_MIME = "text/x.enum"
_TEXT_MIMES = {None, "", "text/plain"}
_FIELD = "generationConfig.responseSchema"
# JSON mode without a schema: any JSON object (what both Gemini and OpenAI users expect).
ANY_OBJECT: dict[str, Any] = {"type": "object"}


def closed_objects(schema: Any) -> Any:
    """Objects with declared properties admit no others unless the schema says so.

    Still valid against the caller's schema (a subset of what it admits), and it keeps a model
    from inventing arguments a Python function would reject or keys nobody asked for.
    """
    if isinstance(schema, list):
        return [closed_objects(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {
        key: (value if key in _LITERAL_KEYS else closed_objects(value))
        for key, value in schema.items()
    }
    if "properties" in closed and "additionalProperties" not in closed:
        closed["additionalProperties"] = False
    return closed


_LITERAL_KEYS = {"enum", "const", "default", "examples", "required"}


def _enum_values(schema: Any) -> tuple[str, ...]:
    values = schema.get("enum") if isinstance(schema, dict) else None
    if not values or not all(isinstance(v, str) for v in values if v is not None):
        raise InvalidArgument(
            f"responseMimeType {ENUM_MIME} needs a responseSchema with a non-empty string enum.",
            field=_FIELD,
        )
    return tuple(v for v in values if v is not None)


def response_constraint(config: GenerationConfig) -> OutputConstraint | None:
    mime = config.response_mime_type
    schema = config.response_json_schema
    if mime in _TEXT_MIMES:
        if schema is not None:
            raise InvalidArgument(
                f"responseSchema needs responseMimeType {JSON_MIME} or {ENUM_MIME}.",
                field="generationConfig.responseMimeType",
            )
        return None
    if mime == JSON_MIME:
        return JsonConstraint(ANY_OBJECT if schema is None else closed_objects(schema), _FIELD)
    if mime == ENUM_MIME:
        return ChoiceConstraint(_enum_values(schema), _FIELD)
    raise InvalidArgument(
        f"responseMimeType {mime!r} is not supported: use text/plain, {JSON_MIME} or {ENUM_MIME}.",
        field="generationConfig.responseMimeType",
    )
