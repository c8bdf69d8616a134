"""Structured output through the real SDK: every output is valid against its schema."""

from __future__ import annotations

import enum
import json
from typing import Any

import jsonschema
import pytest
from google import genai
from google.genai import errors, types
from pydantic import BaseModel, Field

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"


class Recipe(BaseModel):
    name: str = Field(max_length=30)
    minutes: int = Field(ge=1, le=600)
    vegetarian: bool


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


def json_config(**extra: Any) -> types.GenerateContentConfig:
    settings: dict[str, Any] = {"max_output_tokens": 200, **extra}
    return types.GenerateContentConfig(response_mime_type="application/json", **settings)


def test_pydantic_schema_fills_parsed(gemini: genai.Client) -> None:
    response = gemini.models.generate_content(
        model=MODEL, contents="Give me a recipe.", config=json_config(response_schema=Recipe)
    )
    assert isinstance(response.parsed, Recipe)
    Recipe.model_validate_json(response.text or "")


def test_list_of_models_schema(gemini: genai.Client) -> None:
    response = gemini.models.generate_content(
        model=MODEL, contents="Two recipes.", config=json_config(response_schema=list[Recipe])
    )
    assert isinstance(response.parsed, list)
    assert all(isinstance(item, Recipe) for item in response.parsed)


def test_dict_json_schema(gemini: genai.Client) -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "maxLength": 20},
            "population": {"type": "integer", "minimum": 0, "maximum": 10**8},
        },
        "required": ["city", "population"],
        "additionalProperties": False,
    }
    response = gemini.models.generate_content(
        model=MODEL, contents="A city.", config=json_config(response_json_schema=schema)
    )
    jsonschema.validate(json.loads(response.text or ""), schema)
    assert isinstance(response.parsed, dict)


def test_enum_output_is_one_of_the_values(gemini: genai.Client) -> None:
    response = gemini.models.generate_content(
        model=MODEL,
        contents="Pick a colour.",
        config=types.GenerateContentConfig(
            response_mime_type="text/x.enum", response_schema=Colour
        ),
    )
    assert response.text in {"red", "green", "blue"}
    assert isinstance(response.parsed, Colour)


def test_json_mode_without_a_schema_is_a_json_object(gemini: genai.Client) -> None:
    response = gemini.models.generate_content(
        model=MODEL,
        contents="Describe a cat as JSON.",
        config=json_config(candidate_count=4, temperature=1.0, seed=5, max_output_tokens=60),
    )
    assert response.candidates
    for candidate in response.candidates:
        assert candidate.content and candidate.content.parts
        text = candidate.content.parts[0].text or ""
        # A 135M model may nest objects until the token limit; what it did finish is an object.
        if candidate.finish_reason == types.FinishReason.STOP:
            assert isinstance(json.loads(text), dict)
        else:
            assert candidate.finish_reason == types.FinishReason.MAX_TOKENS
            assert text.startswith("{")


def test_a_schema_keyword_the_grammar_cannot_enforce_is_a_400(gemini: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as raised:
        gemini.models.generate_content(
            model=MODEL,
            contents="x",
            config=json_config(response_json_schema={"type": "array", "uniqueItems": True}),
        )
    assert raised.value.code == 400 and "responseSchema" in (raised.value.message or "")


SCHEMAS: list[dict[str, Any]] = [
    {"type": "integer", "minimum": -50, "maximum": 50},
    {"type": "boolean"},
    {"type": "string", "enum": ["alpha", "beta", "gamma"]},
    {"type": "string", "maxLength": 12},
    {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 9}, "maxItems": 5},
    {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}},
        "required": ["ok"],
        "additionalProperties": False,
    },
    {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 10},
            "age": {"type": "integer", "minimum": 0, "maximum": 120},
        },
        "required": ["name", "age"],
        "additionalProperties": False,
    },
    {
        "type": "array",
        "items": {"type": "string", "enum": ["x", "y"]},
        "minItems": 1,
        "maxItems": 4,
    },
    {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "maxItems": 3, "items": {"type": "string", "maxLength": 8}},
            "score": {"type": "integer", "minimum": 0, "maximum": 100},
        },
        "required": ["tags", "score"],
        "additionalProperties": False,
    },
    {
        "anyOf": [
            {"type": "integer", "minimum": 0, "maximum": 99},
            {"type": "string", "maxLength": 6},
            {"type": "null"},
        ]
    },
]


# Bounded schemas: a 135M model can write digits or characters until the token limit when
# nothing bounds them (a float's fraction, say); then finishReason is MAX_TOKENS, honestly.
def test_a_hundred_outputs_across_ten_schemas_are_all_valid(gemini: genai.Client) -> None:
    valid = 0
    for i, schema in enumerate(SCHEMAS):
        for batch in range(2):
            response = gemini.models.generate_content(
                model=MODEL,
                contents=f"Produce a value (case {i}).",
                config=json_config(
                    response_json_schema=schema,
                    candidate_count=5,
                    temperature=1.0,
                    seed=100 * i + 10 * batch,
                    max_output_tokens=120,
                ),
            )
            assert response.candidates and len(response.candidates) == 5
            for candidate in response.candidates:
                assert candidate.finish_reason == types.FinishReason.STOP
                assert candidate.content and candidate.content.parts
                jsonschema.validate(json.loads(candidate.content.parts[0].text or ""), schema)
                valid += 1
    assert valid == 100
