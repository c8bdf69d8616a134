"""Google's OpenAPI-subset Schema (responseSchema, parameters) -> JSON Schema.

The rest of gemgate speaks JSON Schema only (responseJsonSchema and the OpenAI dialect send it
directly), so this is the one place Google's flavour is understood: upper-case types,
`nullable`, `propertyOrdering`, both key casings. Keywords outside Google's Schema are refused,
naming the field, rather than ignored.
"""

from __future__ import annotations

import re
from typing import Any

from gemgate.core.errors import InvalidArgument

_TYPES = {"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"}
# Formats a grammar can enforce; numeric widths (int32, double …) constrain nothing useful.
_KEPT_FORMATS = {"date-time", "date", "time", "email", "uuid", "uri", "ipv4", "ipv6", "hostname"}
_RENAMED = {
    "min_items": "minItems",
    "max_items": "maxItems",
    "min_length": "minLength",
    "max_length": "maxLength",
    "min_properties": "minProperties",
    "max_properties": "maxProperties",
    "minimum": "minimum",
    "maximum": "maximum",
    "pattern": "pattern",
    "title": "title",
    "description": "description",
    "required": "required",
    "enum": "enum",
    "default": "default",
}
_INTEGER_KEYS = {"minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"}
_HANDLED = {
    "type",
    "format",
    "nullable",
    "properties",
    "property_ordering",
    "items",
    "any_of",
    "additional_properties",
    "example",
    "ref",
    "defs",
}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake_case(key: str) -> str:
    return _CAMEL.sub("_", key).lower().lstrip("$")


def to_json_schema(schema: Any, field: str) -> dict[str, Any]:
    if not isinstance(schema, dict):
        raise InvalidArgument(f"{field} must be a Schema object.", field=field)
    keys = {snake_case(k): v for k, v in schema.items()}
    for key in keys:
        if key not in _RENAMED and key not in _HANDLED:
            raise InvalidArgument(
                f"Invalid JSON payload received. Unknown name \"{key}\" at '{field}': "
                "Cannot find field.",
                field=f"{field}.{key}",
            )
    out: dict[str, Any] = {}
    for key, value in keys.items():
        if key in _RENAMED:
            name = _RENAMED[key]
            out[name] = int(value) if name in _INTEGER_KEYS else value
    _translate_type(keys, out, field)
    _translate_nested(keys, out, field)
    if keys.get("nullable"):
        _make_nullable(out)
    return out


def _translate_type(keys: dict[str, Any], out: dict[str, Any], field: str) -> None:
    kind = keys.get("type")
    if kind is not None:
        if not isinstance(kind, str) or kind.upper() not in _TYPES | {"TYPE_UNSPECIFIED"}:
            raise InvalidArgument(
                f"{field}.type {kind!r} is not a Schema type.", field=f"{field}.type"
            )
        if kind.upper() != "TYPE_UNSPECIFIED":
            out["type"] = kind.lower()
    fmt = keys.get("format")
    if isinstance(fmt, str) and fmt in _KEPT_FORMATS:
        out["format"] = fmt


def _translate_nested(keys: dict[str, Any], out: dict[str, Any], field: str) -> None:
    if "items" in keys:
        out["items"] = to_json_schema(keys["items"], f"{field}.items")
    if "any_of" in keys:
        options = keys["any_of"]
        if not isinstance(options, list) or not options:
            raise InvalidArgument(
                f"{field}.anyOf must be a non-empty list.", field=f"{field}.anyOf"
            )
        out["anyOf"] = [to_json_schema(s, f"{field}.anyOf[{i}]") for i, s in enumerate(options)]
    if "ref" in keys:
        out["$ref"] = keys["ref"]
    if "defs" in keys:
        out["$defs"] = {
            name: to_json_schema(s, f"{field}.$defs.{name}") for name, s in keys["defs"].items()
        }
    if "properties" in keys:
        out["properties"] = _properties(keys, field)
        out.setdefault("additionalProperties", False)
    if "additional_properties" in keys:
        extra = keys["additional_properties"]
        out["additionalProperties"] = (
            extra
            if isinstance(extra, bool)
            else to_json_schema(extra, f"{field}.additionalProperties")
        )


def _properties(keys: dict[str, Any], field: str) -> dict[str, Any]:
    properties = keys["properties"]
    if not isinstance(properties, dict):
        raise InvalidArgument(f"{field}.properties must be an object.", field=f"{field}.properties")
    order = list(keys.get("property_ordering") or [])
    unknown = [name for name in order if name not in properties]
    if unknown:
        raise InvalidArgument(
            f"{field}.propertyOrdering names {unknown}, which are not properties.",
            field=f"{field}.propertyOrdering",
        )
    ordered = order + [name for name in properties if name not in order]
    return {
        name: to_json_schema(properties[name], f"{field}.properties.{name}") for name in ordered
    }


def _make_nullable(out: dict[str, Any]) -> None:
    if "type" in out:
        out["type"] = [out["type"], "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    if "type" not in out and "enum" not in out:
        inner = dict(out)
        out.clear()
        out["anyOf"] = [inner, {"type": "null"}]
