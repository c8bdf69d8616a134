"""Per-key limits: admission before a request runs, settlement after it used tokens and money.

- RPM: a fixed one-minute window (wall-clock minute, so replicas agree) counted by an atomic
  `hit`; exactly `rpm` requests are admitted per window whatever the concurrency.
- TPM and daily tokens: admission refuses once the tokens already settled in the window reach
  the limit; settlement adds each response's real total. A request in flight is not reserved,
  so concurrent requests may overshoot by what they use (as Google's own TPM does).
- Budget: lifetime USD spend; admission refuses once spend >= budget.
The daily and budget counters are seeded from the ledger when missing (after a restart of an
in-process counter store, or a flushed Redis), so a restart does not forget what was spent.
"""

from __future__ import annotations

import asyncio
import time

from gemgate.core.errors import PermissionDenied, QuotaExceeded
from gemgate.core.ports import Counters, KeyLimits, UsageStore
from gemgate.services.keys import Principal

MINUTE = 60.0
DAY = 86400.0
_SLACK = 5.0  # counters outlive their window a little, so a clock step never resets one early


def allowed(limits: KeyLimits, model: str) -> bool:
    return not limits.models or model in limits.models


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
            await self._check_daily(key, limits.daily_tokens, now)
        if limits.tpm is not None:
            used = await self._counters.get(_window_name("tpm", key, now, MINUTE)) or 0.0
            if used >= limits.tpm:
                raise _exceeded("tokens per minute", "TokensPerMinutePerKey", limits.tpm, now)
        if limits.rpm is not None:
            name = _window_name("rpm", key, now, MINUTE)
            if await self._counters.hit(name, limits.rpm, MINUTE + _SLACK) > limits.rpm:
                raise _exceeded("requests per minute", "RequestsPerMinutePerKey", limits.rpm, now)

    async def settle(self, principal: Principal, tokens: int, cost_usd: float) -> None:
        limits, key = principal.limits, principal.key_id
        if key is None:
            return
        now = time.time()
        if limits.tpm is not None and tokens:
            name = _window_name("tpm", key, now, MINUTE)
            await self._counters.add(name, tokens, MINUTE + _SLACK)
        if limits.daily_tokens is not None and tokens:
            await self._counters.add(_window_name("day", key, now, DAY), tokens, DAY + _SLACK)
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

    async def _check_daily(self, key: str, limit: int, now: float) -> None:
        name = _window_name("day", key, now, DAY)
        counted = await self._counters.get(name)
        if counted is None:
            start = now - now % DAY
            tokens, _ = await asyncio.to_thread(self._ledger.spent, key, start)
            await self._counters.seed(name, tokens, start + DAY + _SLACK - now)
            used = float(tokens)
        else:
            used = counted
        if used >= limit:
            raise _exceeded("tokens per day", "TokensPerDayPerKey", limit, now, DAY)


def _window_name(kind: str, key: str, now: float, length: float) -> str:
    return f"{kind}:{key}:{int(now // length)}"


def _exceeded(
    what: str, quota_id: str, limit: float, now: float, length: float = MINUTE
) -> QuotaExceeded:
    retry = length - now % length
    return QuotaExceeded(
        f"Quota exceeded for {what} ({limit:g}) of this API key. Retry in {retry:.0f}s.",
        quota_id=quota_id,
        limit=limit,
        retry_after=retry,
    )
