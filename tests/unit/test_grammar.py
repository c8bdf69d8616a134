"""Constraints -> llguidance grammars, compiled for real (llguidance is a pure library)."""

from __future__ import annotations

import pytest

from gemgate.core.errors import InvalidArgument
from gemgate.core.ports import ChoiceConstraint, JsonConstraint, ToolCallConstraint
from gemgate.engines.llamacpp.grammar import checked_grammar


def test_tool_grammar_bounds_the_calls_and_allows_text_in_auto() -> None:
    grammar = checked_grammar(
        ToolCallConstraint((("f", {"type": "object"}), ("g", None)), True, 2, "tools")
    )
    assert "calls: block{1,2}" in grammar and "start: calls | TEXT" in grammar


def test_forced_calls_allow_no_text() -> None:
    grammar = checked_grammar(ToolCallConstraint((("f", None),), False, 1, "tools"))
    assert "start: calls\n" in grammar and "TEXT" not in grammar


def test_choices_are_quoted_literals() -> None:
    assert checked_grammar(ChoiceConstraint(('a"b', "c"), "f")).endswith('start: "a\\"b" | "c"\n')


def test_recursive_refs_compile() -> None:
    schema = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
            }
        },
        "$ref": "#/$defs/Node",
    }
    assert "%json" in checked_grammar(JsonConstraint(schema, "f"))


@pytest.mark.parametrize(
    "schema",
    [
        {"not": {"type": "string"}},
        {"type": "array", "uniqueItems": True},
        {"type": "string", "format": "int64"},
    ],
)
def test_what_the_grammar_cannot_enforce_is_refused_naming_the_field(schema: object) -> None:
    with pytest.raises(InvalidArgument) as raised:
        checked_grammar(JsonConstraint(schema, "generationConfig.responseSchema"))
    assert raised.value.field == "generationConfig.responseSchema"
