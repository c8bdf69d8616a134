"""Per-key limits: admission before a request runs, settlement after it used tokens and money.

- RPM: a fixed one-minute window (the wall-clock minute, so replicas agree) counted by an
  atomic `take`; exactly `rpm` requests are admitted per window whatever the concurrency.
- TPM and daily tokens: a request is admitted while the window's count is below the limit;
  a generation then reserves its prompt tokens atomically (refused if the count reached the
  limit meanwhile), and settlement adds the rest of what it really used. So N concurrent
  requests of P prompt tokens each are admitted exactly while the reserved total is below the
  limit; output tokens can overshoot the limit by what admitted requests generate.
- Budget: lifetime USD spend; admission refuses once spend >= budget (requests in flight
  finish, so spend may pass the budget by what they cost).
The daily and budget counters are seeded from the ledger when missing (after a restart of an
in-process counter store, or a flushed Redis), so a restart does not forget what was spent.
"""

from __future__ import annotations

import asyncio
import math
import time

from gemgate.core.errors import PermissionDenied, QuotaExceeded
from gemgate.core.ports import Counters, KeyLimits, UsageStore
from gemgate.services.keys import Principal

MINUTE = 60.0
DAY = 86400.0
_SLACK = 5.0  # counters outlive their window a little, so a clock step never resets one early


def allowed(limits: KeyLimits, model: str) -> bool:
    return not limits.models or model in limits.models


def counts_tokens(principal: Principal) -> bool:
    """Whether requests of this key must reserve their prompt tokens."""
    limits = principal.limits
    return principal.key_id is not None and (
        limits.tpm is not None or limits.daily_tokens is not None
    )


class QuotaService:
    def __init__(self, counters: Counters, ledger: UsageStore) -> None:
        self._counters = counters
        self._ledger = ledger

    async def admit(self, principal: Principal, model: str) -> None:
        """Raise PermissionDenied (model not allowed) or QuotaExceeded; else count the request."""
        limits, key = principal.limits, principal.key_id
        if key is None:
            return
        if not allowed(limits, model):
            raise PermissionDenied(
                f"This API key may not use model '{model}'; it may use: "
                f"{', '.join(limits.models)}.",
                field="model",
            )
        now = time.time()
        if limits.budget_usd is not None:
            await self._check_budget(key, limits.budget_usd)
        if limits.daily_tokens is not None:
            used = await self._daily_used(key, now)
            if used >= limits.daily_tokens:
                raise _tokens_per_day(limits.daily_tokens, now)
        if limits.tpm is not None:
            used = await self._counters.get(_window("tpm", key, now, MINUTE)) or 0.0
            if used >= limits.tpm:
                raise _tokens_per_minute(limits.tpm, now)
        if limits.rpm is not None:
            name = _window("rpm", key, now, MINUTE)
            if await self._counters.take(name, 1, limits.rpm, MINUTE + _SLACK) is None:
                raise _exceeded("requests per minute", "RequestsPerMinutePerKey", limits.rpm, now)

    async def reserve(self, principal: Principal, tokens: int) -> int:
        """Count a request's prompt tokens before it runs; QuotaExceeded if no room is left."""
        limits, key = principal.limits, principal.key_id
        if key is None or not counts_tokens(principal):
            return 0
        now = time.time()
        taken: list[tuple[str, float]] = []
        if limits.tpm is not None:
            name = _window("tpm", key, now, MINUTE)
            if await self._counters.take(name, tokens, limits.tpm, MINUTE + _SLACK) is None:
                raise _tokens_per_minute(limits.tpm, now)
            taken.append((name, MINUTE + _SLACK))
        if limits.daily_tokens is not None:
            await self._daily_used(key, now)  # seeded from the ledger first
            name = _window("day", key, now, DAY)
            if await self._counters.take(name, tokens, limits.daily_tokens, DAY + _SLACK) is None:
                for undo, ttl in taken:
                    await self._counters.add(undo, -tokens, ttl)
                raise _tokens_per_day(limits.daily_tokens, now)
        return tokens

    async def settle(self, principal: Principal, tokens: int, cost_usd: float) -> None:
        """Add what a request used beyond its reservation, and what it cost."""
        limits, key = principal.limits, principal.key_id
        if key is None:
            return
        now = time.time()
        if limits.tpm is not None and tokens:
            await self._counters.add(_window("tpm", key, now, MINUTE), tokens, MINUTE + _SLACK)
        if limits.daily_tokens is not None and tokens:
            await self._counters.add(_window("day", key, now, DAY), tokens, DAY + _SLACK)
        if limits.budget_usd is not None and cost_usd:
            await self._counters.add(f"spend:{key}", cost_usd, None)

    async def _check_budget(self, key: str, budget: float) -> None:
        name = f"spend:{key}"
        counted = await self._counters.get(name)
        if counted is None:
            _, spent = await asyncio.to_thread(self._ledger.spent, key)
            await self._counters.seed(name, spent, None)
        else:
            spent = counted
        if spent >= budget:
            raise QuotaExceeded(
                f"Budget exhausted: this API key has spent ${spent:.6f} of its ${budget:g} budget.",
                quota_id="BudgetUsdPerKey",
                limit=budget,
                retry_after=None,
            )

    async def _daily_used(self, key: str, now: float) -> float:
        name = _window("day", key, now, DAY)
        counted = await self._counters.get(name)
        if counted is not None:
            return counted
        start = now - now % DAY
        tokens, _ = await asyncio.to_thread(self._ledger.spent, key, start)
        await self._counters.seed(name, tokens, start + DAY + _SLACK - now)
        return await self._counters.get(name) or 0.0


def _window(kind: str, key: str, now: float, length: float) -> str:
    return f"{kind}:{key}:{int(now // length)}"


def _tokens_per_minute(limit: int, now: float) -> QuotaExceeded:
    return _exceeded("tokens per minute", "TokensPerMinutePerKey", limit, now)


def _tokens_per_day(limit: int, now: float) -> QuotaExceeded:
    return _exceeded("tokens per day", "TokensPerDayPerKey", limit, now, DAY)


def _exceeded(
    what: str, quota_id: str, limit: float, now: float, length: float = MINUTE
) -> QuotaExceeded:
    retry = max(1, math.ceil(length - now % length))
    return QuotaExceeded(
        f"Quota exceeded for {what} ({limit:g}) of this API key. Retry in {retry}s.",
        quota_id=quota_id,
        limit=limit,
        retry_after=retry,
    )
