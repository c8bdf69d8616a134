"""Both response caches (in memory, and a real Redis) keep answers per project, with a TTL and
a size bound; Redis entries survive the process that wrote them."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from gemgate.core.ports import ResponseCache
from gemgate.core.types import (
    Candidate,
    FinishReason,
    FunctionCallPart,
    GenerateResponse,
    LogprobStep,
    TextPart,
    TokenLogprob,
    Usage,
)
from gemgate.store.redis_responses import RedisResponseCache
from gemgate.store.responses import MemoryResponseCache
from tests.databases import REDIS_URL


def answer(text: str) -> GenerateResponse:
    step = LogprobStep(TokenLogprob("a", 7, -0.25), (TokenLogprob("b", 8, -1.5),))
    parts = (TextPart(text, thought_signature=b"gg1:\x00\xff"), FunctionCallPart("f", {"x": [1]}))
    return GenerateResponse(
        candidates=(Candidate(0, parts, FinishReason.STOP, (step,)),),
        usage=Usage(prompt_tokens=12, candidates_tokens=3, thoughts_tokens=2),
        model_version="smollm2-135m-instruct",
        response_id="r1",
        create_time=1_764_400_000.25,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis: Redis) -> AsyncIterator[str]:
    """Each test's own key space in the shared Redis, deleted afterwards."""
    name = f"gemgate-test:{secrets.token_hex(6)}"
    yield name
    keys = [k async for k in redis.scan_iter(f"{name}:*")]
    if keys:
        await redis.delete(*keys)


CacheFactory = Callable[[float, int], ResponseCache]


@pytest.fixture(params=["memory", "redis"])
async def make_cache(
    request: pytest.FixtureRequest, clock: Clock, redis: Redis, prefix: str
) -> CacheFactory:
    def build(ttl: float, size: int) -> ResponseCache:
        if request.param == "memory":
            return MemoryResponseCache(ttl, size, clock=clock)
        return RedisResponseCache(redis, ttl, size, prefix=prefix, clock=clock)

    return build


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def test_an_answer_comes_back_whole_for_its_project_only(make_cache: CacheFactory) -> None:
    cache: ResponseCache = make_cache(60, 10)
    await cache.put("alpha", "k", answer("hello"))
    assert await cache.get("alpha", "k") == answer("hello")
    assert await cache.get("beta", "k") is None
    assert await cache.get("alpha", "other") is None


async def test_the_oldest_unused_answers_leave_past_the_bound(
    make_cache: CacheFactory, clock: Clock
) -> None:
    cache: ResponseCache = make_cache(600, 2)
    await cache.put("p", "a", answer("a"))
    clock.now += 1
    await cache.put("p", "b", answer("b"))
    clock.now += 1
    assert await cache.get("p", "a") is not None  # "a" is now the most recently used
    clock.now += 1
    await cache.put("p", "c", answer("c"))
    assert await cache.get("p", "b") is None
    assert await cache.get("p", "a") == answer("a") and await cache.get("p", "c") == answer("c")


async def test_memory_answers_expire_after_the_ttl(clock: Clock) -> None:
    cache = MemoryResponseCache(10, 5, clock=clock)
    await cache.put("p", "k", answer("x"))
    clock.now += 11
    assert await cache.get("p", "k") is None


async def test_redis_answers_expire_after_the_ttl(redis: Redis, prefix: str) -> None:
    cache = RedisResponseCache(redis, 0.2, 5, prefix=prefix)
    await cache.put("p", "k", answer("x"))
    ttl_ms = await redis.pttl(f"{prefix}:p:k")
    assert 0 < ttl_ms <= 200
    await redis.delete(f"{prefix}:p:k")  # what Redis does when the TTL runs out
    assert await cache.get("p", "k") is None


async def test_another_client_reads_what_one_stored(redis: Redis, prefix: str) -> None:
    await RedisResponseCache(redis, 60, 5, prefix=prefix).put("p", "k", answer("shared"))
    other = Redis.from_url(REDIS_URL)
    try:
        assert await RedisResponseCache(other, 60, 5, prefix=prefix).get("p", "k") == answer(
            "shared"
        )
    finally:
        await other.aclose()


async def test_an_unreachable_redis_is_a_miss_not_an_error() -> None:
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    cache = RedisResponseCache(client, 60, 5)
    try:
        await cache.put("p", "k", answer("x"))
        assert await cache.get("p", "k") is None
    finally:
        await client.aclose()


async def test_a_turned_off_cache_stores_nothing(make_cache: CacheFactory) -> None:
    cache: ResponseCache = make_cache(60, 0)
    assert not cache.enabled
    await cache.put("p", "k", answer("x"))
    assert await cache.get("p", "k") is None
