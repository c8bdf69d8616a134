"""Quota counters: in-process and Redis (a real server at 127.0.0.1:6379) behave the same."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from gemgate.core.errors import Unavailable
from gemgate.core.ports import Counters
from gemgate.store.counters import MemoryCounters
from gemgate.store.redis_counters import RedisCounters

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[Counters]:
    prefix = f"gemgate-test-{secrets.token_hex(6)}:"
    client = Redis.from_url(REDIS_URL) if request.param == "redis" else None
    made: Counters = MemoryCounters() if client is None else RedisCounters(client, prefix)
    yield made
    await made.aclose()
    if client is not None:
        await client.aclose()
    if request.param == "redis":  # counters without a ttl would stay behind
        async with Redis.from_url(REDIS_URL) as client:
            async for name in client.scan_iter(match=prefix + "*"):
                await client.delete(name)


async def test_take_admits_exactly_the_limit_under_concurrency(counters: Counters) -> None:
    results = await asyncio.gather(*(counters.take("rpm", 1, 20, 60) for _ in range(50)))
    admitted = [r for r in results if r is not None]
    assert len(admitted) == 20
    assert sorted(admitted) == [float(n) for n in range(1, 21)]
    assert await counters.get("rpm") == 20


async def test_take_refuses_once_the_count_reached_the_limit(counters: Counters) -> None:
    assert await counters.take("tpm", 70, 100, 60) == 70
    assert await counters.take("tpm", 70, 100, 60) == 140  # below the limit when it came
    assert await counters.take("tpm", 1, 100, 60) is None
    assert await counters.get("tpm") == 140


async def test_add_get_and_seed(counters: Counters) -> None:
    assert await counters.get("spend") is None
    await counters.seed("spend", 1.5, None)
    await counters.seed("spend", 99.0, None)  # only when missing
    assert await counters.add("spend", 0.25, None) == pytest.approx(1.75)
    assert await counters.add("spend", 1e-7, None) == pytest.approx(1.7500001)
    assert await counters.get("spend") == pytest.approx(1.7500001)


async def test_counters_expire(counters: Counters) -> None:
    await counters.take("short", 1, 5, 0.2)
    await counters.add("short-add", 3, 0.2)
    await asyncio.sleep(0.4)
    assert await counters.get("short") is None
    assert await counters.get("short-add") is None
    assert await counters.take("short", 1, 5, 0.2) == 1


async def test_an_unreachable_redis_is_a_clear_unavailable() -> None:
    client = Redis.from_url("redis://127.0.0.1:1/0")  # nothing listens on 1
    counters = RedisCounters(client, "gemgate-test:")
    with pytest.raises(Unavailable, match="rate-limit store"):
        await counters.take("rpm", 1, 5, 60)
    await client.aclose()
