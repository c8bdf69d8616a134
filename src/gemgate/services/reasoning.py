"""Real thinking for every model: a bounded thinking pass, then the answer conditioned on it.

Both kinds of model run the same two passes; only the scaffold differs:
- native reasoning (`<think>…</think>` templates): pass 1 writes inside the model's own think
  section and stops at `</think>` or at the budget; if the budget ran out, gemgate closes the
  section itself, so the answer always follows. Budget 0 hands the model an empty section.
- no native reasoning (SmolLM2): pass 1 continues a "let me think" preamble in the assistant
  turn, up to the budget; pass 2 continues after the thoughts with the answer.
Pass 2 re-reads pass 1's prompt from the engine's prefix cache, so only the thoughts prefill.
Every reported thought token is one the engine generated in pass 1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from gemgate.core.ports import Engine, EngineDelta, EngineEvent, EngineFinish, SamplingParams

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


@dataclass(frozen=True)
class Scaffold:
    think_prefix: str  # appended to the prompt before thinking
    think_stop: tuple[str, ...]  # ends the thinking pass early
    answer_prefix: str  # appended after the thoughts, before the answer
    no_think: str  # appended to the prompt when thinking is off


NATIVE_OPEN = Scaffold("", (THINK_CLOSE,), f"\n{THINK_CLOSE}\n\n", f"\n{THINK_CLOSE}\n\n")
NATIVE = Scaffold(
    f"{THINK_OPEN}\n", (THINK_CLOSE,), f"\n{THINK_CLOSE}\n\n", f"{THINK_OPEN}\n\n{THINK_CLOSE}\n\n"
)
TWO_PHASE = Scaffold(
    "Let me think this through step by step before answering.\n",
    (),
    "\n\nSo, my answer:\n",
    "",
)


def scaffold_for(native_reasoning: bool, prompt: str) -> Scaffold:
    if not native_reasoning:
        return TWO_PHASE
    # Some templates open the think section in the generation prompt themselves.
    return NATIVE_OPEN if prompt.rstrip().endswith(THINK_OPEN) else NATIVE


def answer_prompt(prompt: str, scaffold: Scaffold, thoughts: str, budget: int) -> str:
    """The prompt the answer pass continues: after the thoughts, or with thinking off."""
    if budget <= 0:
        return prompt + scaffold.no_think
    return prompt + scaffold.think_prefix + thoughts.rstrip() + scaffold.answer_prefix


async def think_then_answer(
    engine: Engine,
    prompt: str,
    params: SamplingParams,
    budget: int,
    scaffold: Scaffold,
) -> AsyncIterator[EngineEvent]:
    """budget > 0: up to `budget` thought tokens, then the answer. 0: the answer alone."""
    if budget <= 0:
        async for event in engine.generate(answer_prompt(prompt, scaffold, "", 0), params):
            yield event
        return
    prompt_tokens = await engine.count_tokens(prompt)
    think_prompt = prompt + scaffold.think_prefix
    thinking = SamplingParams(
        max_tokens=budget,
        temperature=params.temperature,
        top_p=params.top_p,
        top_k=params.top_k,
        seed=params.seed,
        stop=scaffold.think_stop,
    )
    thoughts: list[str] = []
    thought_finish: EngineFinish | None = None
    async for event in engine.generate(think_prompt, thinking):
        if isinstance(event, EngineDelta):
            thoughts.append(event.text)
            yield EngineDelta(event.text, thought=True)
        else:
            thought_finish = event
    assert thought_finish is not None
    answer = answer_prompt(prompt, scaffold, "".join(thoughts), budget)
    async for event in engine.generate(answer, params):
        if isinstance(event, EngineFinish):
            event = replace(
                event,
                prompt_tokens=prompt_tokens,
                cached_tokens=min(thought_finish.cached_tokens, prompt_tokens),
                thoughts_tokens=thought_finish.completion_tokens,
            )
        yield event
