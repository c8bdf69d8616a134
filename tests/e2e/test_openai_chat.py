"""chat.completions through the real openai SDK at /v1 and /v1beta/openai, on a real server."""

from __future__ import annotations

import base64
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, OpenAI

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"
SHORT: dict[str, Any] = {"max_tokens": 8, "temperature": 0}
HI = [{"role": "user", "content": "Say hello."}]


def test_a_completion_answers_text_and_usage(oai: OpenAI) -> None:
    completion = oai.chat.completions.create(model=MODEL, messages=HI, **SHORT)
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == "smollm2-135m-instruct"
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason in ("stop", "length")
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens and usage.completion_tokens
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens_details and usage.prompt_tokens_details.cached_tokens is not None
    assert usage.completion_tokens_details
    assert usage.completion_tokens_details.reasoning_tokens == 0


def test_the_seeds_nothink_preview_model_answers(oai: OpenAI) -> None:
    completion = oai.chat.completions.create(
        model="gemini-2.5-flash-preview-04-17-nothink",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hello!"},
        ],
        **SHORT,
    )
    assert completion.choices[0].message.content
    assert completion.usage and completion.usage.completion_tokens_details
    assert completion.usage.completion_tokens_details.reasoning_tokens == 0


def test_a_system_message_reaches_the_prompt(oai_v1: OpenAI) -> None:
    plain = oai_v1.chat.completions.create(model=MODEL, messages=HI, **SHORT)
    with_system = oai_v1.chat.completions.create(
        model=MODEL,
        messages=[{"role": "developer", "content": "Answer in French."}, *HI],
        **SHORT,
    )
    assert plain.usage and with_system.usage
    assert with_system.usage.prompt_tokens != plain.usage.prompt_tokens


def test_a_multi_turn_conversation_is_accepted(oai_v1: OpenAI) -> None:
    messages: list[Any] = [
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Hello Ada!"},
        {"role": "user", "content": [{"type": "text", "text": "What is my name?"}]},
    ]
    completion = oai_v1.chat.completions.create(model=MODEL, messages=messages, **SHORT)
    assert completion.choices[0].message.content


@pytest.mark.parametrize("limit", ["max_tokens", "max_completion_tokens"])
def test_the_token_limit_is_honoured_with_length(oai_v1: OpenAI, limit: str) -> None:
    completion = oai_v1.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Write a long story about a dragon."}],
        temperature=0,
        **{limit: 4},
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage and completion.usage.completion_tokens == 4


def test_n_gives_that_many_choices(oai_v1: OpenAI) -> None:
    completion = oai_v1.chat.completions.create(
        model=MODEL, messages=HI, n=2, max_tokens=4, temperature=0.9, seed=1
    )
    assert sorted(c.index for c in completion.choices) == [0, 1]


def test_a_stop_sequence_cuts_the_text(oai_v1: OpenAI) -> None:
    prompt = [{"role": "user", "content": "Write a long story about a dragon."}]
    full = oai_v1.chat.completions.create(
        model=MODEL, messages=prompt, max_tokens=16, temperature=0
    )
    words = (full.choices[0].message.content or "").split()
    assert len(words) >= 4, words
    cut = oai_v1.chat.completions.create(
        model=MODEL, messages=prompt, max_tokens=16, temperature=0, stop=[words[3]]
    )
    assert cut.choices[0].finish_reason == "stop"
    assert words[3] not in (cut.choices[0].message.content or "")


def test_the_same_seed_gives_the_same_text(oai_v1: OpenAI) -> None:
    def run() -> str | None:
        options: dict[str, Any] = {"max_tokens": 8, "temperature": 1.0, "seed": 42}
        reply = oai_v1.chat.completions.create(model=MODEL, messages=HI, **options)
        return reply.choices[0].message.content

    assert run() == run()


def test_penalties_and_user_are_accepted(oai_v1: OpenAI) -> None:
    completion = oai_v1.chat.completions.create(
        model=MODEL,
        messages=HI,
        presence_penalty=0.5,
        frequency_penalty=0.5,
        top_p=0.9,
        user="user-1",
        **SHORT,
    )
    assert completion.choices[0].message.content


def test_logprobs_come_back_per_token(oai_v1: OpenAI) -> None:
    completion = oai_v1.chat.completions.create(
        model=MODEL, messages=HI, logprobs=True, top_logprobs=2, max_tokens=3, temperature=0
    )
    logprobs = completion.choices[0].logprobs
    assert logprobs and logprobs.content and len(logprobs.content) == 3
    first = logprobs.content[0]
    assert first.logprob <= 0 and len(first.top_logprobs) == 2


def test_reasoning_effort_none_is_accepted(oai_v1: OpenAI) -> None:
    completion = oai_v1.chat.completions.create(
        model=MODEL, messages=HI, reasoning_effort="none", **SHORT
    )
    assert completion.choices[0].message.content


def test_googles_thinking_config_in_extra_body_is_accepted(oai_v1: OpenAI) -> None:
    completion = oai_v1.chat.completions.create(
        model=MODEL,
        messages=HI,
        extra_body={"extra_body": {"google": {"thinking_config": {"thinking_budget": 0}}}},
        **SHORT,
    )
    assert completion.choices[0].message.content


def test_a_text_data_url_is_read_as_text(oai_v1: OpenAI) -> None:
    note = base64.b64encode(b"The secret word is banana.").decode()
    completion = oai_v1.chat.completions.create(
        model=MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is the secret word?"},
                    {"type": "file", "file": {"file_data": f"data:text/plain;base64,{note}"}},
                ],
            }
        ],
        **SHORT,
    )
    assert completion.choices[0].message.content


def test_an_image_on_the_text_only_model_is_a_clear_400(oai: OpenAI) -> None:
    image = {"url": "data:image/png;base64,iVBORw0KGgo="}
    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(
            model=MODEL,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {"type": "image_url", "image_url": image},
                    ],
                }
            ],
            **SHORT,
        )
    assert caught.value.status_code == 400
    assert "IMAGE" in caught.value.message and "text-only" in caught.value.message
    assert caught.value.param == "messages"


async def test_the_async_client_answers(aoai: AsyncOpenAI) -> None:
    completion = await aoai.chat.completions.create(model=MODEL, messages=HI, **SHORT)
    assert completion.choices[0].message.content
