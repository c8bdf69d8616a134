from __future__ import annotations

import pytest

from gemgate.core.errors import InvalidArgument
from gemgate.dialects.gemini.schema import to_json_schema


def test_googles_schema_becomes_json_schema_in_property_order() -> None:
    schema = {
        "type": "OBJECT",
        "title": "Rec",
        "properties": {
            "n": {"type": "INTEGER", "format": "int64"},
            "name": {"type": "STRING", "nullable": True},
            "tags": {
                "type": "ARRAY",
                "items": {"type": "STRING", "enum": ["a", "b"]},
                "min_items": "1",
                "maxItems": 3,
            },
        },
        "property_ordering": ["name", "n", "tags"],
        "required": ["name", "n"],
    }
    assert to_json_schema(schema, "f") == {
        "type": "object",
        "title": "Rec",
        "required": ["name", "n"],
        "properties": {
            "name": {"type": ["string", "null"]},
            "n": {"type": "integer"},
            "tags": {
                "type": "array",
                "items": {"type": "string", "enum": ["a", "b"]},
                "minItems": 1,
                "maxItems": 3,
            },
        },
        "additionalProperties": False,
    }


def test_any_of_and_nullable_enum() -> None:
    schema = {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}], "nullable": True}
    assert to_json_schema(schema, "f") == {
        "anyOf": [{"anyOf": [{"type": "string"}, {"type": "number"}]}, {"type": "null"}]
    }
    assert to_json_schema({"type": "STRING", "enum": ["x"], "nullable": True}, "f") == {
        "type": ["string", "null"],
        "enum": ["x", None],
    }


def test_property_names_are_never_rewritten() -> None:
    out = to_json_schema({"type": "OBJECT", "properties": {"someName": {"type": "STRING"}}}, "f")
    assert list(out["properties"]) == ["someName"]


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        (
            {"type": "OBJECT", "properties": {"a": {"type": "STRING", "bogus": 1}}},
            "f.properties.a.bogus",
        ),
        ({"type": "WORD"}, "f.type"),
        (
            {"type": "OBJECT", "properties": {"a": {}}, "propertyOrdering": ["b"]},
            "f.propertyOrdering",
        ),
    ],
)
def test_bad_schemas_name_the_field(schema: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        to_json_schema(schema, "f")
    assert raised.value.field == field
