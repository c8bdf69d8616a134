"""Pricing: cached input at a fraction of the input price, thoughts billed as output."""

from __future__ import annotations

import pytest

from gemgate.core.types import Usage
from gemgate.services.pricing import Price, Pricing

FLASH = Price(input_per_million=0.30, output_per_million=2.50)


def test_cached_input_is_billed_at_the_default_fraction() -> None:
    pricing = Pricing({"gemini-2.5-flash": FLASH}, cached_input_fraction=0.25)
    usage = Usage(prompt_tokens=1_000_000, cached_tokens=400_000)
    # 600k fresh at 0.30/M + 400k cached at 25% of 0.30/M
    assert pricing.cost("gemini-2.5-flash", "local", usage) == pytest.approx(0.18 + 0.03)


def test_thoughts_are_billed_as_output() -> None:
    pricing = Pricing({"gemini-2.5-flash": FLASH}, cached_input_fraction=0.25)
    usage = Usage(prompt_tokens=0, candidates_tokens=200_000, thoughts_tokens=800_000)
    assert pricing.cost("gemini-2.5-flash", "local", usage) == pytest.approx(2.50)


def test_tool_use_prompt_tokens_are_billed_as_input() -> None:
    pricing = Pricing({"m": Price(1.0, 0.0)}, cached_input_fraction=0.25)
    assert pricing.cost("m", "x", Usage(tool_use_prompt_tokens=500_000)) == pytest.approx(0.5)


def test_a_models_own_fraction_wins_over_the_default() -> None:
    pricing = Pricing({"m": Price(1.0, 0.0, cached_input_fraction=0.5)}, 0.25)
    usage = Usage(prompt_tokens=1_000_000, cached_tokens=1_000_000)
    assert pricing.cost("m", "x", usage) == pytest.approx(0.5)


def test_the_public_id_is_priced_before_the_serving_model() -> None:
    pricing = Pricing({"public": Price(1.0, 0.0), "local": Price(9.0, 0.0)}, 0.25)
    usage = Usage(prompt_tokens=1_000_000)
    assert pricing.cost("public", "local", usage) == pytest.approx(1.0)
    assert pricing.cost("other", "local", usage) == pytest.approx(9.0)


def test_an_unpriced_model_costs_nothing() -> None:
    assert Pricing({}, 0.25).cost("m", "x", Usage(prompt_tokens=10**9)) == 0.0
