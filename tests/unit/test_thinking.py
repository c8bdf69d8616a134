"""Thinking over a scripted engine: budgets, the native <think> cut-off, accounting, limits."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gemgate.core import types as core
from gemgate.core.errors import InvalidArgument
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
from tests.unit.test_generation_service import SIGNER


class ScriptedEngine:
    """Replies with the next script line, token = word; honours max_tokens and stop strings."""

    def __init__(self, *replies: str, native: bool = False, template_opens: bool = False):
        self.replies = list(replies)
        self.prompts: list[str] = []
        self.params: list[SamplingParams] = []
        self._native = native
        self._opens = template_opens

    @property
    def capabilities(self) -> EngineCapabilities:
        return EngineCapabilities(context_tokens=4096, native_reasoning=self._native)

    async def render(self, messages: list[ChatMessage]) -> str:
        return "PROMPT " + ("<think>\n" if self._opens else "")

    async def count_tokens(self, prompt: str) -> int:
        return len(prompt.split())

    def check_constraint(self, constraint: OutputConstraint) -> None:
        return None

    async def generate(self, prompt: str, params: SamplingParams) -> AsyncIterator[EngineEvent]:
        self.prompts.append(prompt)
        self.params.append(params)
        words, reason = self.replies.pop(0).split(), core.FinishReason.STOP
        out: list[str] = []
        for word in words:
            if word in params.stop:
                break
            if len(out) == params.max_tokens:
                reason = core.FinishReason.MAX_TOKENS
                break
            out.append(word)
            yield EngineDelta(word + " ")
        yield EngineFinish(reason, len(prompt.split()), len(out))


class Engines:
    def __init__(self, engine: ScriptedEngine) -> None:
        self._engine = engine

    async def engine(self, model_id: str) -> ScriptedEngine:
        return self._engine


def service(engine: ScriptedEngine, budgets: dict[str, int] | None = None) -> GenerationService:
    local = LocalModel("small", "Small", "", 4096, 100)
    aliases = {
        "gemini-2.5-flash": "default",
        "gemini-2.5-pro": "default",
        "gemini-3-flash-preview": "default",
    }
    return GenerationService(
        ModelRegistry([local], aliases, "small", budgets), Engines(engine), SIGNER
    )


def ask(model: str = "gemini-2.5-flash", **thinking: object) -> core.GenerateRequest:
    config = core.GenerationConfig(
        thinking=core.ThinkingConfig(**thinking) if thinking else None  # type: ignore[arg-type]
    )
    return core.GenerateRequest(
        model, (core.Content(core.Role.USER, (core.TextPart("q"),)),), config=config
    )


async def test_budget_zero_is_one_pass_and_no_thoughts() -> None:
    engine = ScriptedEngine("answer here")
    response = await service(engine).generate(ask(budget=0, include_thoughts=True))
    assert len(engine.prompts) == 1
    assert response.usage.thoughts_tokens == 0
    assert not any(getattr(p, "thought", False) for p in response.candidates[0].parts)


async def test_two_phase_thinks_within_budget_then_answers_on_the_thoughts() -> None:
    engine = ScriptedEngine("a b c d e f g h", "final words")
    response = await service(engine).generate(ask(budget=5, include_thoughts=True))
    thought, answer = response.candidates[0].parts
    assert isinstance(thought, core.TextPart) and thought.thought and thought.text == "a b c d e "
    assert isinstance(answer, core.TextPart) and answer.text == "final words "
    assert engine.params[0].max_tokens == 5
    assert "a b c d e" in engine.prompts[1] and engine.prompts[1].startswith(engine.prompts[0])
    usage = response.usage
    assert usage.thoughts_tokens == 5 and usage.candidates_tokens == 2
    assert usage.prompt_tokens == 1  # the caller's prompt, not our scaffold
    assert usage.total_tokens == 1 + 2 + 5


async def test_hidden_thoughts_are_still_counted() -> None:
    engine = ScriptedEngine("x y z", "done")
    response = await service(engine).generate(ask(budget=10))
    (answer,) = response.candidates[0].parts
    assert isinstance(answer, core.TextPart) and answer.text == "done " and not answer.thought
    assert response.usage.thoughts_tokens == 3


async def test_dynamic_on_a_model_without_native_reasoning_answers_directly() -> None:
    engine = ScriptedEngine("straight answer")
    response = await service(engine).generate(ask())
    assert len(engine.prompts) == 1 and response.usage.thoughts_tokens == 0


async def test_a_relay_style_default_budget_applies_when_none_is_given() -> None:
    engine = ScriptedEngine("t1 t2", "ok")
    response = await service(engine, {"gemini-2.5-flash": 1024}).generate(ask())
    assert response.usage.thoughts_tokens == 2


async def test_native_reasoning_stops_at_the_close_tag_and_answers_after_it() -> None:
    engine = ScriptedEngine(
        "reason more </think> ignored", "the answer", native=True, template_opens=True
    )
    response = await service(engine).generate(ask(budget=50, include_thoughts=True))
    assert engine.params[0].stop == ("</think>",)
    assert engine.prompts[1].endswith("reason more\n</think>\n\n")
    assert [p.text for p in response.candidates[0].parts if isinstance(p, core.TextPart)] == [
        "reason more ",
        "the answer ",
    ]


async def test_native_reasoning_past_its_budget_is_closed_for_it() -> None:
    engine = ScriptedEngine("on and on and on and on", "answer", native=True)
    response = await service(engine).generate(ask(budget=3, include_thoughts=True))
    assert engine.prompts[0] == "PROMPT <think>\n"
    assert engine.prompts[1] == "PROMPT <think>\non and on\n</think>\n\n"
    assert response.usage.thoughts_tokens == 3


async def test_native_reasoning_with_budget_zero_gets_an_empty_section() -> None:
    engine = ScriptedEngine("answer", native=True)
    await service(engine).generate(ask(budget=0))
    assert engine.prompts == ["PROMPT <think>\n\n</think>\n\n"]


async def test_dynamic_on_a_native_reasoner_thinks() -> None:
    engine = ScriptedEngine("hmm </think>", "answer", native=True)
    response = await service(engine).generate(ask())
    assert response.usage.thoughts_tokens == 1


async def test_streaming_delivers_thoughts_before_the_answer() -> None:
    engine = ScriptedEngine("t1 t2 t3", "a1 a2")
    chunks = [c async for c in service(engine).stream(ask(budget=3, include_thoughts=True))]
    flags = [
        p.thought for c in chunks for p in c.candidates[0].parts if isinstance(p, core.TextPart)
    ]
    assert flags == sorted(flags, reverse=True) and flags[0] and not flags[-1]


async def test_levels_map_to_the_models_budgets_on_gemini_3() -> None:
    engine = ScriptedEngine("t " * 600, "ok")
    await service(engine).generate(ask("gemini-3-flash-preview", level="MEDIUM"))
    assert engine.params[0].max_tokens == 512


@pytest.mark.parametrize(
    ("model", "thinking"),
    [
        ("gemini-2.5-flash", {"budget": 24577}),
        ("gemini-2.5-flash", {"budget": -2}),
        ("gemini-2.5-pro", {"budget": 0}),
        ("gemini-2.5-pro", {"budget": 64}),
        ("gemini-2.5-pro-nothink", {}),
        ("gemini-2.5-flash", {"level": "LOW"}),
        ("gemini-3-flash-preview", {"level": "LOW", "budget": 10}),
        ("gemini-3-flash-preview", {"level": "TURBO"}),
        ("gemini-2.5-flash-nothink", {"budget": 100}),
    ],
)
async def test_out_of_range_or_contradictory_thinking_is_a_400(
    model: str, thinking: dict[str, object]
) -> None:
    with pytest.raises(InvalidArgument):
        await service(ScriptedEngine("x", "y")).generate(ask(model, **thinking))


async def test_nothink_suffix_turns_thinking_off() -> None:
    engine = ScriptedEngine("answer")
    response = await service(engine, {"gemini-2.5-flash": 1024}).generate(
        ask("gemini-2.5-flash-nothink")
    )
    assert len(engine.prompts) == 1 and response.usage.thoughts_tokens == 0


async def test_a_thought_bearing_turn_is_signed_and_verified_when_echoed() -> None:
    engine = ScriptedEngine("t1 t2", "the answer")
    response = await service(engine).generate(ask(budget=4))
    (answer,) = response.candidates[0].parts
    assert isinstance(answer, core.TextPart) and answer.thought_signature
    assert answer.thought_signature == SIGNER.sign_text(answer.text)

    def history(part: core.TextPart) -> core.GenerateRequest:
        return core.GenerateRequest(
            "gemini-2.5-flash",
            (
                core.Content(core.Role.USER, (core.TextPart("q"),)),
                core.Content(core.Role.MODEL, (part,)),
                core.Content(core.Role.USER, (core.TextPart("more"),)),
            ),
        )

    assert (await service(ScriptedEngine("fine")).generate(history(answer))).candidates
    forged = core.TextPart("a different answer", thought_signature=answer.thought_signature)
    with pytest.raises(InvalidArgument):
        await service(ScriptedEngine("x")).generate(history(forged))
