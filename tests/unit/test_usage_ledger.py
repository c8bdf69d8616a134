"""The usage ledger: batched writes off the request path, nothing lost on close, reports."""

from __future__ import annotations

import asyncio
import calendar
from pathlib import Path

import pytest

from gemgate.core.ports import UsageRecord
from gemgate.services.usage import UsageLedger
from gemgate.store.database import open_database
from gemgate.store.usage import SqlUsageStore

DAY1 = calendar.timegm((2026, 11, 28, 12, 0, 0))
DAY2 = DAY1 + 86400


@pytest.fixture
def store(tmp_path: Path) -> SqlUsageStore:
    return SqlUsageStore(open_database(f"sqlite:///{tmp_path / 'u.db'}"))


def row(when: float, key: str | None, model: str, **usage: object) -> UsageRecord:
    return UsageRecord(
        time=when, key_id=key, project="p", method="generateContent", model_asked=model,
        **usage,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_every_queued_row_is_written_on_close(store: SqlUsageStore) -> None:
    ledger = UsageLedger(store, interval=60.0, batch_rows=10_000)  # never flushes on its own
    ledger.start()
    for n in range(1234):
        ledger.record(row(DAY1 + n, "k", "m", prompt_tokens=1))
    await ledger.aclose()
    assert len(store.records()) == 1234


async def test_rows_are_written_within_the_interval(store: SqlUsageStore) -> None:
    ledger = UsageLedger(store, interval=0.05, batch_rows=10_000)
    ledger.start()
    ledger.record(row(DAY1, "k", "m"))
    await asyncio.sleep(0.5)
    assert len(store.records()) == 1
    await ledger.aclose()


async def test_a_full_batch_is_written_without_waiting(store: SqlUsageStore) -> None:
    ledger = UsageLedger(store, interval=60.0, batch_rows=5)
    ledger.start()
    for n in range(5):
        ledger.record(row(DAY1 + n, "k", "m"))
    await asyncio.sleep(0.5)
    assert len(store.records()) == 5
    await ledger.aclose()


def test_rows_keep_every_field(store: SqlUsageStore) -> None:
    original = UsageRecord(
        time=DAY1, key_id="k", project="p", method="streamGenerateContent",
        model_asked="gemini-2.5-flash", model_served="smollm2", deployment="local:smollm2",
        prompt_tokens=10, cached_tokens=8, candidates_tokens=3, thoughts_tokens=5,
        tool_use_prompt_tokens=2, cost_usd=0.5, latency_ms=12.5, ttft_ms=3.25,
        status="CANCELLED", error="the client went away",
    )  # fmt: skip
    store.add_many([original])
    assert store.records() == [original]


def test_reports_group_by_key_model_and_day(store: SqlUsageStore) -> None:
    store.add_many(
        [
            row(DAY1, "a", "m1", prompt_tokens=10, cached_tokens=4, cost_usd=1.0),
            row(DAY1 + 1, "a", "m2", prompt_tokens=5, thoughts_tokens=7, cost_usd=2.0),
            row(DAY2, "b", "m1", candidates_tokens=3, status="RESOURCE_EXHAUSTED"),
        ]
    )
    by_key = {t.group: t for t in store.summary("key", 0)}
    assert by_key["a"].requests == 2 and by_key["a"].cost_usd == 3.0
    assert by_key["b"].errors == 1
    by_model = {t.group: t for t in store.summary("model", 0)}
    assert by_model["m1"].prompt_tokens == 10 and by_model["m1"].candidates_tokens == 3
    by_day = {t.group: t for t in store.summary("day", 0)}
    assert set(by_day) == {"2026-11-28", "2026-11-29"}
    assert by_day["2026-11-28"].thoughts_tokens == 7 and by_day["2026-11-28"].cached_tokens == 4
    assert [t.group for t in store.summary("key", DAY2)] == ["b"]


def test_spent_sums_a_keys_tokens_and_cost(store: SqlUsageStore) -> None:
    store.add_many(
        [
            row(DAY1, "a", "m", prompt_tokens=10, candidates_tokens=2, cost_usd=0.5),
            row(DAY2, "a", "m", prompt_tokens=1, thoughts_tokens=4, cost_usd=0.25),
            row(DAY2, "b", "m", prompt_tokens=100, cost_usd=9.0),
        ]
    )
    assert store.spent("a") == (17, 0.75)
    assert store.spent("a", since=DAY2) == (5, 0.25)
    assert store.spent("nobody") == (0, 0.0)
