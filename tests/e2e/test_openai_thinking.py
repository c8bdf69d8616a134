"""Thinking controls through the openai SDK: reasoning_effort, Google's thinking_config, -nothink.

Thought text arrives as `reasoning_content` (an extra field the SDK keeps), reasoning tokens in
usage.completion_tokens_details, and completion_tokens counts both.
"""

from __future__ import annotations

from typing import Any

import pytest
from openai import OpenAI

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"
ASK: Any = [{"role": "user", "content": "Why is the sky blue?"}]
VISIBLE_THOUGHTS = {"google": {"thinking_config": {"thinking_budget": 8, "include_thoughts": True}}}


def reasoning_tokens(usage: Any) -> int:
    assert usage is not None and usage.completion_tokens_details is not None
    return int(usage.completion_tokens_details.reasoning_tokens or 0)


def test_visible_thoughts_arrive_as_reasoning_content(oai: OpenAI) -> None:
    completion = oai.chat.completions.create(
        model=MODEL,
        messages=ASK,
        max_tokens=16,
        temperature=0,
        extra_body={"extra_body": VISIBLE_THOUGHTS},
    )
    message = completion.choices[0].message
    assert (message.model_extra or {}).get("reasoning_content")
    thoughts = reasoning_tokens(completion.usage)
    assert 0 < thoughts <= 8
    assert completion.usage and completion.usage.completion_tokens > thoughts


def test_hidden_thoughts_are_still_counted(oai_v1: OpenAI) -> None:
    completion = oai_v1.chat.completions.create(
        model=MODEL, messages=ASK, max_tokens=16, temperature=0, reasoning_effort="low"
    )
    assert "reasoning_content" not in (completion.choices[0].message.model_extra or {})
    assert reasoning_tokens(completion.usage) > 0


@pytest.mark.parametrize(
    ("model", "options"),
    [
        (MODEL, {"reasoning_effort": "none"}),
        ("gemini-2.5-flash-preview-04-17-nothink", {}),
    ],
    ids=["reasoning-effort-none", "nothink-suffix"],
)
def test_thinking_can_be_switched_off(oai_v1: OpenAI, model: str, options: dict[str, Any]) -> None:
    completion = oai_v1.chat.completions.create(
        model=model, messages=ASK, max_tokens=8, temperature=0, **options
    )
    assert reasoning_tokens(completion.usage) == 0
    assert completion.choices[0].message.content


def test_streamed_thoughts_come_before_the_answer(oai_v1: OpenAI) -> None:
    stream = oai_v1.chat.completions.create(
        model=MODEL,
        messages=ASK,
        max_tokens=16,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
        extra_body=VISIBLE_THOUGHTS,
    )
    kinds: list[str] = []
    usage = None
    for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            if (choice.delta.model_extra or {}).get("reasoning_content"):
                kinds.append("thought")
            if choice.delta.content:
                kinds.append("text")
    assert kinds and kinds[0] == "thought" and kinds == sorted(kinds, reverse=True)
    assert reasoning_tokens(usage) > 0
