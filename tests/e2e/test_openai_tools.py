"""Function calling through the openai SDK: a call, its result answered back, streamed calls.

Mechanics only: the 135M model is forced to call (tool_choice) where a call is the point.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai import OpenAI

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"
WEATHER: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
CLOCK: Any = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The current time.",
        "parameters": {"type": "object", "properties": {}, "additionalProperties": False},
    },
}
ASK: Any = [{"role": "user", "content": "What is the weather in Paris?"}]
CALL_BUDGET: dict[str, Any] = {"max_tokens": 96, "temperature": 0}


def test_a_tool_round_trip(oai: OpenAI) -> None:
    first = oai.chat.completions.create(
        model=MODEL, messages=ASK, tools=[WEATHER], tool_choice="required", **CALL_BUDGET
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls
    assert calls and calls[0].type == "function" and calls[0].id
    assert calls[0].function.name == "get_weather"
    assert isinstance(json.loads(calls[0].function.arguments), dict)

    # The assistant turn goes back as the SDK gave it, extra_content (signature) included.
    assistant = choice.message.model_dump(exclude_none=True)
    answer = {"role": "tool", "tool_call_id": calls[0].id, "content": '{"temp_c": 21}'}
    second = oai.chat.completions.create(
        model=MODEL,
        messages=[*ASK, assistant, answer],
        tools=[WEATHER],
        max_tokens=8,
        temperature=0,
    )
    assert second.choices[0].finish_reason in ("stop", "length", "tool_calls")
    assert second.usage and second.usage.prompt_tokens > (
        first.usage.prompt_tokens if first.usage else 0
    )


def test_the_thought_signature_travels_with_the_call(oai_v1: OpenAI) -> None:
    first = oai_v1.chat.completions.create(
        model=MODEL, messages=ASK, tools=[WEATHER], tool_choice="required", **CALL_BUDGET
    )
    calls = first.choices[0].message.tool_calls
    assert calls
    extra = (calls[0].model_extra or {})["extra_content"]
    assert extra["google"]["thought_signature"]
    # The same signature on changed arguments must be caught: it reached the pipeline intact.
    assistant = first.choices[0].message.model_dump(exclude_none=True)
    assistant["tool_calls"][0]["function"]["arguments"] = '{"city": "Rome"}'
    answer = {"role": "tool", "tool_call_id": calls[0].id, "content": "sunny"}
    with pytest.raises(openai.BadRequestError) as caught:
        oai_v1.chat.completions.create(
            model=MODEL, messages=[*ASK, assistant, answer], tools=[WEATHER], max_tokens=4
        )
    assert caught.value.param == "messages"


def test_tools_work_without_tool_choice(oai_v1: OpenAI) -> None:
    completion = oai_v1.chat.completions.create(
        model=MODEL, messages=ASK, tools=[WEATHER, CLOCK], **CALL_BUDGET
    )
    choice = completion.choices[0]
    assert choice.finish_reason in ("stop", "length", "tool_calls")
    assert choice.message.content or choice.message.tool_calls


def test_a_named_tool_choice_calls_that_function(oai_v1: OpenAI) -> None:
    completion = oai_v1.chat.completions.create(
        model=MODEL,
        messages=ASK,
        tools=[WEATHER, CLOCK],
        tool_choice={"type": "function", "function": {"name": "get_time"}},
        **CALL_BUDGET,
    )
    choice = completion.choices[0]
    calls = choice.message.tool_calls
    assert calls, (choice.finish_reason, choice.message.content)
    assert {c.function.name for c in calls} == {"get_time"}


def test_tool_choice_none_answers_text(oai_v1: OpenAI) -> None:
    completion = oai_v1.chat.completions.create(
        model=MODEL,
        messages=ASK,
        tools=[WEATHER],
        tool_choice="none",
        max_tokens=8,
        temperature=0,
    )
    assert completion.choices[0].message.tool_calls is None
    assert completion.choices[0].message.content


def test_streamed_tool_calls_come_as_indexed_deltas(oai_v1: OpenAI) -> None:
    stream = oai_v1.chat.completions.create(
        model=MODEL,
        messages=ASK,
        tools=[WEATHER],
        tool_choice="required",
        stream=True,
        **CALL_BUDGET,
    )
    chunks = [c for c in stream if c.choices]
    deltas = [d for c in chunks for d in c.choices[0].delta.tool_calls or ()]
    assert deltas and deltas[0].index == 0 and deltas[0].id
    assert deltas[0].function and deltas[0].function.name == "get_weather"
    assert isinstance(json.loads(deltas[0].function.arguments or ""), dict)
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
