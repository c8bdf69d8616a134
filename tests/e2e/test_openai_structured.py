"""response_format through the openai SDK: JSON mode and strict JSON Schema, parsed client-side."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai import OpenAI
from pydantic import BaseModel

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"
ASK: Any = [{"role": "user", "content": "Give me a city and its country as JSON."}]


class City(BaseModel):
    name: str
    country: str


def test_json_object_mode_answers_json(oai_v1: OpenAI) -> None:
    completion = oai_v1.chat.completions.create(
        model=MODEL,
        messages=ASK,
        response_format={"type": "json_object"},
        max_tokens=96,
        temperature=0,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop", choice.message.content
    json.loads(choice.message.content or "")


def test_a_strict_json_schema_parses_into_the_model(oai: OpenAI) -> None:
    completion = oai.chat.completions.parse(
        model=MODEL, messages=ASK, response_format=City, max_tokens=64, temperature=0
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop", choice.message.content
    assert isinstance(choice.message.parsed, City)
