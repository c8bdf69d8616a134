"""What a request costs: the one place usage turns into money.

Prices are per 1M tokens. Cached input is billed at a fraction of the input price (the relay
in the seeds: 25%), thoughts are billed as output, tool-use prompt tokens as input. A model
with no price costs nothing (local models are free unless priced).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gemgate.core.types import Usage

PER = 1_000_000


@dataclass(frozen=True)
class Price:
    input_per_million: float
    output_per_million: float
    cached_input_fraction: float | None = None  # None: the pricing's default fraction


class Pricing:
    def __init__(self, prices: Mapping[str, Price], cached_input_fraction: float) -> None:
        self._prices = dict(prices)
        self._cached_fraction = cached_input_fraction

    def price(self, model_asked: str, model_served: str) -> Price | None:
        """The public id's price first (what the caller chose), else the serving model's."""
        return self._prices.get(model_asked) or self._prices.get(model_served)

    def cost(self, model_asked: str, model_served: str, usage: Usage) -> float:
        price = self.price(model_asked, model_served)
        if price is None:
            return 0.0
        fraction = price.cached_input_fraction
        if fraction is None:
            fraction = self._cached_fraction
        cached = min(usage.cached_tokens, usage.prompt_tokens)
        fresh_input = usage.prompt_tokens - cached + usage.tool_use_prompt_tokens
        output = usage.candidates_tokens + usage.thoughts_tokens
        return (
            fresh_input * price.input_per_million
            + cached * price.input_per_million * fraction
            + output * price.output_per_million
        ) / PER
