"""GenerationService over a fake Engine port: merging, accounting, limits, refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gemgate.core import types as core
from gemgate.core.errors import InvalidArgument, NotFound
from gemgate.core.ports import (
    ChatMessage,
    EngineCapabilities,
    EngineDelta,
    EngineEvent,
    EngineFinish,
    OutputConstraint,
    SamplingParams,
)
from gemgate.services.generation import GenerationService
from gemgate.services.models import LocalModel, ModelRegistry
from gemgate.services.signatures import Signer

SIGNER = Signer(b"k" * 32)


class FakeEngine:
    """Echoes `reply` word by word; records what it was asked."""

    def __init__(self, reply: str = "one two three") -> None:
        self.reply = reply
        self.calls: list[SamplingParams] = []
        self.rendered: list[list[ChatMessage]] = []
        self.constraints: list[OutputConstraint] = []

    @property
    def capabilities(self) -> EngineCapabilities:
        return EngineCapabilities(context_tokens=100)

    async def render(self, messages: list[ChatMessage]) -> str:
        self.rendered.append(messages)
        return "|".join(f"{m.role}:{m.content}" for m in messages)

    async def count_tokens(self, prompt: str) -> int:
        return len(prompt.split())

    def check_constraint(self, constraint: OutputConstraint) -> None:
        self.constraints.append(constraint)

    async def generate(self, prompt: str, params: SamplingParams) -> AsyncIterator[EngineEvent]:
        self.calls.append(params)
        words = self.reply.split()[: params.max_tokens]
        for word in words:
            yield EngineDelta(word + " ")
        reason = (
            core.FinishReason.MAX_TOKENS
            if len(words) == params.max_tokens
            else core.FinishReason.STOP
        )
        yield EngineFinish(reason, await self.count_tokens(prompt), len(words), cached_tokens=1)


class FakeEngines:
    def __init__(self, engine: FakeEngine) -> None:
        self._engine = engine

    async def engine(self, model_id: str) -> FakeEngine:
        return self._engine


def service(engine: FakeEngine) -> GenerationService:
    registry = ModelRegistry(
        [LocalModel("small", "Small", "", 100, 10)], {"gemini-2.5-flash": "default"}, "small"
    )
    return GenerationService(registry, FakeEngines(engine), SIGNER)


def ask(text: str = "hi", **config: object) -> core.GenerateRequest:
    content = core.Content(core.Role.USER, (core.TextPart(text),))
    return core.GenerateRequest(
        "gemini-2.5-flash",
        (content,),
        config=core.GenerationConfig(**config),  # type: ignore[arg-type]
    )


async def test_generate_aggregates_text_and_reports_usage() -> None:
    response = await service(FakeEngine()).generate(ask())
    assert response.candidates[0].parts == (core.TextPart("one two three "),)
    assert response.candidates[0].finish_reason is core.FinishReason.STOP
    assert response.usage == core.Usage(prompt_tokens=1, candidates_tokens=3, cached_tokens=1)
    assert response.model_version == "small"


async def test_candidates_get_consecutive_seeds_and_summed_usage() -> None:
    engine = FakeEngine()
    response = await service(engine).generate(ask(candidate_count=3, seed=10))
    assert [c.index for c in response.candidates] == [0, 1, 2]
    assert sorted(p.seed for p in engine.calls if p.seed is not None) == [10, 11, 12]
    assert response.usage.candidates_tokens == 9 and response.usage.prompt_tokens == 1


async def test_the_stream_ends_with_usage_and_finish_together() -> None:
    chunks = [chunk async for chunk in service(FakeEngine()).stream(ask(max_output_tokens=2))]
    assert all(chunk.usage is None for chunk in chunks[:-1])
    assert chunks[-1].usage is not None
    assert chunks[-1].candidates[0].finish_reason is core.FinishReason.MAX_TOKENS


async def test_default_max_tokens_is_the_models_output_limit() -> None:
    engine = FakeEngine("w " * 50)
    response = await service(engine).generate(ask())
    assert engine.calls[0].max_tokens == 10
    assert response.candidates[0].finish_reason is core.FinishReason.MAX_TOKENS


async def test_max_output_tokens_over_the_model_limit_is_refused() -> None:
    with pytest.raises(InvalidArgument) as raised:
        await service(FakeEngine()).generate(ask(max_output_tokens=11))
    assert raised.value.field == "generationConfig.maxOutputTokens"


async def test_system_instruction_and_roles_reach_the_template() -> None:
    engine = FakeEngine()
    request = core.GenerateRequest(
        "small",
        (
            core.Content(core.Role.USER, (core.TextPart("a"),)),
            core.Content(
                core.Role.MODEL, (core.TextPart("thinking", thought=True), core.TextPart("b"))
            ),
            core.Content(core.Role.USER, (core.TextPart("c"),)),
        ),
        system_instruction=core.Content(core.Role.USER, (core.TextPart("sys"),)),
    )
    await service(engine).generate(request)
    assert engine.rendered[0] == [
        ChatMessage("system", "sys"),
        ChatMessage("user", "a"),
        ChatMessage("assistant", "b"),
        ChatMessage("user", "c"),
    ]


async def test_inline_text_documents_become_prompt_text() -> None:
    engine = FakeEngine()
    part = core.InlineDataPart("text/csv", b"a,b\n1,2")
    request = core.GenerateRequest("small", (core.Content(core.Role.USER, (part,)),))
    await service(engine).generate(request)
    assert engine.rendered[0][-1].content == "a,b\n1,2"


@pytest.mark.parametrize(
    "request_",
    [
        core.GenerateRequest("small", ()),
        core.GenerateRequest("small", (core.Content(core.Role.USER, ()),)),
        core.GenerateRequest(
            "small", (core.Content(core.Role.USER, (core.InlineDataPart("audio/wav", b"x"),)),)
        ),
        core.GenerateRequest(
            "small",
            (core.Content(core.Role.USER, (core.TextPart("x"),)),),
            tools=(core.Tool("googleSearch"),),
        ),
        core.GenerateRequest(
            "small",
            (core.Content(core.Role.USER, (core.TextPart("x"),)),),
            config=core.GenerationConfig(thinking=core.ThinkingConfig(budget=-5)),
        ),
    ],
    ids=["no-contents", "no-parts", "audio-on-text-model", "search-tool", "bad-thinking-budget"],
)
async def test_what_the_model_cannot_do_is_a_clear_400(request_: core.GenerateRequest) -> None:
    with pytest.raises(InvalidArgument):
        await service(FakeEngine()).generate(request_)


async def test_unknown_cached_content_is_not_found() -> None:
    request = core.GenerateRequest(
        "small",
        (core.Content(core.Role.USER, (core.TextPart("x"),)),),
        cached_content="cachedContents/nope",
    )
    with pytest.raises(NotFound):
        await service(FakeEngine()).generate(request)


async def test_count_tokens_counts_the_rendered_prompt() -> None:
    content = core.Content(core.Role.USER, (core.TextPart("a b c"),))
    assert await service(FakeEngine()).count_tokens("small", (content,), None) == 3


async def test_consecutive_model_turns_are_merged_for_the_template() -> None:
    engine = FakeEngine()
    request = core.GenerateRequest(
        "small",
        (
            core.Content(core.Role.USER, (core.TextPart("a"),)),
            core.Content(core.Role.USER, (core.TextPart("b"),)),
            core.Content(core.Role.MODEL, (core.TextPart(""),)),
            core.Content(core.Role.MODEL, (core.TextPart("c"),)),
        ),
    )
    await service(engine).generate(request)
    assert engine.rendered[0] == [
        ChatMessage("user", "a"),
        ChatMessage("user", "b"),
        ChatMessage("assistant", "c"),
    ]
