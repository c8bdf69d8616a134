"""Output constraints -> llguidance grammars, which llama.cpp enforces token by token.

llguidance (not the GBNF path behind `response_format`) keeps constrained decoding at
unconstrained speed (shared/reference/local-engine.md §4). llama.cpp silently ignores a
grammar it cannot compile, so every grammar is compiled here first and a failure is a 400
naming the field: nothing is ever generated unconstrained by accident.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import llguidance

from gemgate.core.errors import InvalidArgument
from gemgate.core.ports import (
    ChoiceConstraint,
    CodeBlockConstraint,
    JsonConstraint,
    OutputConstraint,
    ToolCallConstraint,
)

_HEADER = "%llguidance {}\n"
# Free text in AUTO mode must not begin like a tool call, so the first token decides.
_FREE_TEXT = r"/[^<](?s:.)*/"


def _compact(schema: Any) -> Any:
    """Ask for JSON without optional whitespace: faster, and no whitespace runaway."""
    if isinstance(schema, dict):
        return {**schema, "x-guidance": {"whitespace_flexible": False}}
    return schema


def _lark_string(text: str) -> str:
    return json.dumps(text)


def _json_rule(schema: Any) -> str:
    return "%json " + json.dumps(_compact(schema), separators=(",", ":"))


def _call_schema(functions: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    options = [
        {
            "type": "object",
            "properties": {"name": {"const": name}, "args": args or {"type": "object"}},
            "required": ["name", "args"],
            "additionalProperties": False,
        }
        for name, args in functions
    ]
    return options[0] if len(options) == 1 else {"anyOf": options}


def _tool_grammar(constraint: ToolCallConstraint) -> str:
    block = f"{_lark_string(constraint.OPEN)} call {_lark_string(constraint.CLOSE)}"
    start = "calls | TEXT" if constraint.allow_text else "calls"
    lines = [
        f"start: {start}",
        f"calls: block{{1,{constraint.max_calls}}}",
        f"block: {block}",
        f"call: {_json_rule(_call_schema(constraint.functions))}",
    ]
    if constraint.allow_text:
        lines.append(f"TEXT: {_FREE_TEXT}")
    return _HEADER + "\n".join(lines) + "\n"


# Text without a run of three backticks: every run of one or two is followed by another
# character. Prose and fence are one lexeme, so the lexer never has to guess where prose ends.
_NO_FENCE = r"(?:[^`]|`{1,2}[^`])*"


def _code_grammar(constraint: CodeBlockConstraint) -> str:
    lines = ["start: PROSE" + (" | OPENING CODE" if constraint.allow_code else "")]
    lines.append(f"PROSE: /{_NO_FENCE}/")
    if constraint.allow_code:
        fence_open = constraint.FENCE_OPEN.replace("\n", r"\n")
        lines.append(f"OPENING: /{_NO_FENCE}{fence_open}/")
        lines.append(f"CODE: /{_NO_FENCE}{constraint.FENCE_CLOSE}/")
    return _HEADER + "\n".join(lines) + "\n"


def grammar_for(constraint: OutputConstraint) -> str:
    if isinstance(constraint, CodeBlockConstraint):
        return _code_grammar(constraint)
    if isinstance(constraint, JsonConstraint):
        return _HEADER + "start: " + _json_rule(constraint.schema) + "\n"
    if isinstance(constraint, ChoiceConstraint):
        return _HEADER + "start: " + " | ".join(map(_lark_string, constraint.options)) + "\n"
    return _tool_grammar(constraint)


@lru_cache(maxsize=256)
def _compile_error(grammar: str) -> str | None:
    is_error, messages = llguidance.LLMatcher.validate_grammar_with_warnings(grammar)
    return "; ".join(messages) if is_error else None


def checked_grammar(constraint: OutputConstraint) -> str:
    try:
        grammar = grammar_for(constraint)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"{constraint.field} cannot be turned into a grammar: {exc}", field=constraint.field
        ) from exc
    error = _compile_error(grammar)
    if error is not None:
        first_line = error.strip().splitlines()[0]
        raise InvalidArgument(
            f"{constraint.field} is not a schema this server can enforce: {first_line}",
            field=constraint.field,
        )
    return grammar
