"""Streamed chat.completions: the openai SDK's chunks, usage on request, [DONE], early errors."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from tests.serving import RunningServer

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"
HI = [{"role": "user", "content": "Say hello."}]


def test_a_stream_starts_with_the_role_and_ends_with_usage(oai: OpenAI) -> None:
    stream = oai.chat.completions.create(
        model=MODEL,
        messages=HI,
        max_tokens=8,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] in ("stop", "length") and not any(finishes[:-1])
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.completion_tokens and last.usage.prompt_tokens
    assert all(c.usage is None for c in chunks[:-1])


def test_a_stream_has_no_usage_unless_asked(oai_v1: OpenAI) -> None:
    stream = oai_v1.chat.completions.create(
        model=MODEL, messages=HI, max_tokens=4, temperature=0, stream=True
    )
    chunks = list(stream)
    assert chunks and all(c.usage is None and c.choices for c in chunks)


def test_the_stream_text_equals_the_plain_answer(oai_v1: OpenAI) -> None:
    plain = oai_v1.chat.completions.create(
        model=MODEL, messages=HI, max_tokens=8, temperature=0, seed=3
    )
    stream = oai_v1.chat.completions.create(
        model=MODEL, messages=HI, max_tokens=8, temperature=0, seed=3, stream=True
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert streamed == plain.choices[0].message.content


def test_the_wire_is_data_lines_ending_in_done(server: RunningServer) -> None:
    body = {"model": MODEL, "messages": HI, "max_tokens": 3, "stream": True}
    with httpx.stream(
        "POST", server.url + "/v1beta/openai/chat/completions", json=body, timeout=60
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = response.read().decode().split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    for event in events[:-2]:
        assert event.startswith("data: ")
        assert json.loads(event.removeprefix("data: "))["object"] == "chat.completion.chunk"


def test_an_unknown_model_fails_before_the_stream_starts(oai: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        oai.chat.completions.create(model="no-such-model", messages=HI, stream=True)
    assert caught.value.code == "model_not_found"


async def test_the_async_client_streams(aoai: AsyncOpenAI) -> None:
    stream = await aoai.chat.completions.create(
        model=MODEL, messages=HI, max_tokens=4, temperature=0, stream=True
    )
    texts = [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]
    assert "".join(texts)
