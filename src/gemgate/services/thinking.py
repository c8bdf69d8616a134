"""Thinking controls: what a request's thinkingConfig means for the model that serves it.

Ranges follow Google's per-family rules (the alias a caller used decides): 2.5 Pro thinks
128-32768 tokens and cannot stop thinking; Flash-Lite 512-24576 or off; Flash 0-24576.
Gemini 3 ids take thinkingLevel. -1 is dynamic: the model decides — a model with native
reasoning reasons, one without answers directly (so plain requests stay fast).
"""

from __future__ import annotations

from dataclasses import dataclass

from gemgate.core.errors import InvalidArgument
from gemgate.core.types import GenerationConfig
from gemgate.services.models import ResolvedModel

DYNAMIC = -1
LEVELS = ("MINIMAL", "LOW", "MEDIUM", "HIGH", "XHIGH")
_FIELD = "generationConfig.thinkingConfig"


@dataclass(frozen=True)
class ThinkingSpec:
    """What one public model id allows."""

    min_budget: int
    max_budget: int
    can_disable: bool
    takes_levels: bool


@dataclass(frozen=True)
class ThinkingPlan:
    budget: int  # 0: no thinking; N > 0: up to N thought tokens; -1: the model decides
    include_thoughts: bool


def spec_for(public_id: str) -> ThinkingSpec:
    name = public_id.lower()
    gemini3 = name.startswith("gemini-3")
    if not name.startswith("gemini-"):
        return ThinkingSpec(1, 32768, can_disable=True, takes_levels=True)
    if "-pro" in name:
        return ThinkingSpec(128, 32768, can_disable=False, takes_levels=gemini3)
    if "flash-lite" in name:
        return ThinkingSpec(512, 24576, can_disable=True, takes_levels=gemini3)
    return ThinkingSpec(1, 24576, can_disable=True, takes_levels=gemini3)


def _check_budget(budget: int, spec: ThinkingSpec, model: ResolvedModel) -> None:
    if budget == 0 and not spec.can_disable:
        raise InvalidArgument(
            f"Budget 0 is invalid. models/{model.requested} only works in thinking mode.",
            field=f"{_FIELD}.thinkingBudget",
        )
    if budget not in (0, DYNAMIC) and not spec.min_budget <= budget <= spec.max_budget:
        raise InvalidArgument(
            f"The thinking budget {budget} is invalid. Please choose a value between "
            f"{spec.min_budget} and {spec.max_budget}.",
            field=f"{_FIELD}.thinkingBudget",
        )


def plan_thinking(
    config: GenerationConfig, model: ResolvedModel, default_budget: int | None
) -> ThinkingPlan:
    spec = spec_for(model.requested)
    thinking = config.thinking
    include = bool(thinking and thinking.include_thoughts)
    if thinking is not None and thinking.level is not None:
        return ThinkingPlan(_level_budget(thinking.level, thinking.budget, spec, model), include)
    if model.thinking_disabled:
        _check_budget(0, spec, model)
        if thinking is not None and thinking.budget not in (None, 0):
            raise InvalidArgument(
                f"models/{model.requested} turns thinking off; thinkingBudget "
                f"{thinking.budget} contradicts it.",
                field=f"{_FIELD}.thinkingBudget",
            )
        return ThinkingPlan(0, include)
    budget = thinking.budget if thinking is not None else None
    if budget is None:
        budget = DYNAMIC if default_budget is None else default_budget
    _check_budget(budget, spec, model)
    return ThinkingPlan(budget, include)


def _level_budget(level: str, budget: int | None, spec: ThinkingSpec, model: ResolvedModel) -> int:
    if budget is not None:
        raise InvalidArgument(
            "thinkingBudget and thinkingLevel cannot both be set.", field=f"{_FIELD}.thinkingLevel"
        )
    if not spec.takes_levels:
        raise InvalidArgument(
            f"thinkingLevel is not supported by models/{model.requested}; use thinkingBudget.",
            field=f"{_FIELD}.thinkingLevel",
        )
    if level not in LEVELS:
        raise InvalidArgument(
            f"thinkingLevel {level!r} is not one of {', '.join(LEVELS)}.",
            field=f"{_FIELD}.thinkingLevel",
        )
    levels = model.local.thinking_levels
    return levels.get(level.lower(), max(levels.values()))
