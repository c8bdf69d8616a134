"""QuotaService over in-process counters and a real SQLite ledger."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from gemgate.core.errors import PermissionDenied, QuotaExceeded
from gemgate.core.ports import KeyLimits, UsageRecord
from gemgate.services.keys import Principal
from gemgate.services.quotas import QuotaService
from gemgate.store.counters import MemoryCounters
from gemgate.store.database import open_database
from gemgate.store.usage import SqlUsageStore


@pytest.fixture
def ledger(tmp_path: Path) -> SqlUsageStore:
    return SqlUsageStore(open_database(f"sqlite:///{tmp_path / 'q.db'}"))


def key(**limits: object) -> Principal:
    return Principal("proj", "k1", KeyLimits(**limits))  # type: ignore[arg-type]


async def admitted(service: QuotaService, principal: Principal, n: int) -> int:
    async def one() -> bool:
        try:
            await service.admit(principal, "gemini-2.5-flash")
        except QuotaExceeded:
            return False
        return True

    return sum(await asyncio.gather(*(one() for _ in range(n))))


async def test_rpm_admits_exactly_the_limit(ledger: SqlUsageStore) -> None:
    service = QuotaService(MemoryCounters(), ledger)
    assert await admitted(service, key(rpm=20), 50) == 20


async def test_refusal_carries_a_retry_hint_within_the_window(ledger: SqlUsageStore) -> None:
    service = QuotaService(MemoryCounters(), ledger)
    await service.admit(key(rpm=1), "m")
    with pytest.raises(QuotaExceeded) as raised:
        await service.admit(key(rpm=1), "m")
    assert raised.value.quota_id == "RequestsPerMinutePerKey"
    assert raised.value.retry_after is not None and 1 <= raised.value.retry_after <= 60


async def test_tpm_reservations_admit_while_below_the_limit(ledger: SqlUsageStore) -> None:
    service = QuotaService(MemoryCounters(), ledger)
    principal = key(tpm=100)

    async def one() -> bool:
        try:
            await service.admit(principal, "m")
            await service.reserve(principal, 30)
        except QuotaExceeded:
            return False
        return True

    # 0, 30, 60, 90 are below 100: four are admitted, whatever the concurrency.
    assert sum(await asyncio.gather(*(one() for _ in range(50)))) == 4


async def test_settled_tokens_count_against_tpm(ledger: SqlUsageStore) -> None:
    service = QuotaService(MemoryCounters(), ledger)
    principal = key(tpm=100)
    await service.admit(principal, "m")
    await service.settle(principal, 100, 0.0)
    with pytest.raises(QuotaExceeded) as raised:
        await service.admit(principal, "m")
    assert raised.value.quota_id == "TokensPerMinutePerKey"


async def test_budget_stops_spending_and_gives_no_retry(ledger: SqlUsageStore) -> None:
    service = QuotaService(MemoryCounters(), ledger)
    principal = key(budget_usd=0.01)
    await service.admit(principal, "m")
    await service.settle(principal, 10, 0.006)
    await service.admit(principal, "m")
    await service.settle(principal, 10, 0.006)
    with pytest.raises(QuotaExceeded) as raised:
        await service.admit(principal, "m")
    assert raised.value.quota_id == "BudgetUsdPerKey" and raised.value.retry_after is None


async def test_spend_and_daily_tokens_survive_a_restart_through_the_ledger(
    ledger: SqlUsageStore,
) -> None:
    row = UsageRecord(
        time=time.time(), key_id="k1", project="proj", method="generateContent",
        model_asked="m", prompt_tokens=900, candidates_tokens=100, cost_usd=0.02,
    )  # fmt: skip
    ledger.add_many([row])
    fresh = QuotaService(MemoryCounters(), ledger)  # a new process: counters are empty
    with pytest.raises(QuotaExceeded, match="Budget"):
        await fresh.admit(key(budget_usd=0.02), "m")
    with pytest.raises(QuotaExceeded) as raised:
        await fresh.admit(key(daily_tokens=1000), "m")
    assert raised.value.quota_id == "TokensPerDayPerKey"
    await fresh.admit(key(daily_tokens=1001), "m")


async def test_a_model_outside_the_keys_list_is_denied(ledger: SqlUsageStore) -> None:
    service = QuotaService(MemoryCounters(), ledger)
    principal = key(models=("gemini-2.5-flash",))
    await service.admit(principal, "gemini-2.5-flash")
    with pytest.raises(PermissionDenied) as raised:
        await service.admit(principal, "gemini-2.5-pro")
    assert raised.value.field == "model"


async def test_open_mode_has_no_limits(ledger: SqlUsageStore) -> None:
    service = QuotaService(MemoryCounters(), ledger)
    principal = Principal("default", None, KeyLimits(rpm=1))
    for _ in range(3):
        await service.admit(principal, "m")
