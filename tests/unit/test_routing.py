"""The router's decisions with fake upstreams behind the Upstream port and a fake clock."""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import AsyncGenerator

import pytest

from gemgate.core.errors import Code, UpstreamError
from gemgate.core.types import (
    Candidate,
    Content,
    EmbedRequest,
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    Role,
    StreamChunk,
    TextPart,
    Usage,
)
from gemgate.services.routing import Deployment, RetryPolicy, Router, Target


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Scripted:
    """An upstream that fails with the scripted errors, then answers with its name."""

    def __init__(self, name: str, *errors: UpstreamError) -> None:
        self.name = name
        self.errors = deque(errors)
        self.calls: list[str] = []

    def _answer(self) -> GenerateResponse:
        candidate = Candidate(0, (TextPart(self.name),))
        return GenerateResponse((candidate,), Usage(), self.name, "r", 0.0)

    async def generate(self, model: str, request: GenerateRequest) -> GenerateResponse:
        self.calls.append(model)
        if self.errors:
            raise self.errors.popleft()
        return self._answer()

    async def stream(
        self, model: str, request: GenerateRequest
    ) -> AsyncGenerator[StreamChunk, None]:
        self.calls.append(model)
        if self.errors:
            raise self.errors.popleft()
        yield StreamChunk((Candidate(0, (TextPart("a"),)),), self.name, "r", 0.0)
        yield StreamChunk((Candidate(0, (TextPart("b"),)),), self.name, "r", 0.0)

    async def count_tokens(self, model: str, request: GenerateRequest) -> int:
        return 0

    async def embed(self, model: str, request: EmbedRequest) -> EmbedResponse:
        return EmbedResponse(model, (), 0)

    async def aclose(self) -> None:
        return None


REQUEST = GenerateRequest("models/m", (Content(Role.USER, (TextPart("hi"),)),))


def _router(
    upstreams: list[Scripted], targets: list[Target], clock: Clock, **policy: float
) -> Router:
    deployments = [Deployment(u.name, u, 4) for u in upstreams]
    return Router(
        deployments,
        {"m": targets},
        RetryPolicy(**policy),  # type: ignore[arg-type]
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(7),
    )


def _error(status: int, retry_after: float | None = None) -> UpstreamError:
    return UpstreamError(f"status {status}", status=status, retry_after=retry_after)


async def test_a_lower_priority_is_only_a_fallback() -> None:
    a, b = Scripted("a", _error(500)), Scripted("b")
    router = _router([a, b], [Target("b", "mb", priority=1), Target("a", "ma")], Clock())
    response = await router.generate(REQUEST)
    assert response.model_version == "b"
    assert a.calls == ["ma"] and b.calls == ["mb"]


def test_weights_share_traffic_among_equal_priorities() -> None:
    a, b = Scripted("a"), Scripted("b")
    router = _router([a, b], [], Clock())
    targets = [Target("a", "m", weight=3), Target("b", "m", weight=1)]
    firsts = Counter(router.order(targets)[0].deployment for _ in range(4000))
    assert 0.70 < firsts["a"] / 4000 < 0.80


async def test_retrying_one_deployment_backs_off_exponentially_with_jitter() -> None:
    clock = Clock()
    a = Scripted("a", _error(503), _error(503), _error(503))
    router = _router(
        [a],
        [Target("a", "m")],
        clock,
        max_attempts=4,
        backoff_initial=1.0,
        backoff_max=3.0,
        eject_after_failures=10,
    )
    await router.generate(REQUEST)
    assert len(a.calls) == 4
    ceilings = [1.0, 2.0, 3.0]  # 1, 2, 4 capped at 3
    assert len(clock.slept) == 3
    assert all(0 <= s <= c for s, c in zip(clock.slept, ceilings, strict=True))


async def test_retry_after_is_waited_out() -> None:
    clock = Clock()
    a = Scripted("a", _error(429, retry_after=2.5))
    router = _router([a], [Target("a", "m")], clock)
    await router.generate(REQUEST)
    assert clock.slept and clock.slept[0] >= 2.5


async def test_a_retry_after_beyond_the_limit_is_not_waited() -> None:
    clock = Clock()
    a = Scripted("a", _error(429, retry_after=600))
    router = _router([a], [Target("a", "m")], clock, retry_after_max=30.0)
    with pytest.raises(UpstreamError) as caught:
        await router.generate(REQUEST)
    assert caught.value.code is Code.RESOURCE_EXHAUSTED
    assert clock.slept == [] and len(a.calls) == 1


async def test_client_errors_are_not_retried() -> None:
    a, b = Scripted("a", _error(400)), Scripted("b")
    router = _router([a, b], [Target("a", "m"), Target("b", "m", priority=1)], Clock())
    with pytest.raises(UpstreamError) as caught:
        await router.generate(REQUEST)
    assert caught.value.code is Code.INVALID_ARGUMENT
    assert b.calls == []


async def test_ejection_lasts_eject_seconds_then_the_deployment_is_tried_again() -> None:
    clock = Clock()
    a, b = Scripted("a", _error(500), _error(500)), Scripted("b")
    targets = [Target("a", "m"), Target("b", "m", priority=1)]
    router = _router([a, b], targets, clock, eject_after_failures=2, eject_seconds=10.0)
    for _ in range(4):
        await router.generate(REQUEST)
    assert len(a.calls) == 2 and len(b.calls) == 4
    clock.now += 10.0
    assert (await router.generate(REQUEST)).model_version == "a"


async def test_a_stream_fails_over_before_its_first_chunk_only() -> None:
    a, b = Scripted("a", _error(502)), Scripted("b")
    router = _router([a, b], [Target("a", "m"), Target("b", "m", priority=1)], Clock())
    chunks = [c async for c in router.stream(REQUEST)]
    assert [c.model_version for c in chunks] == ["b", "b"]
    assert len(a.calls) == 1


async def test_the_concurrency_limit_is_a_semaphore_per_deployment() -> None:
    a = Scripted("a")
    router = _router([a], [Target("a", "m")], Clock())
    deployment = router.deployment("a")
    stream = router.stream(REQUEST)
    await anext(stream)
    assert deployment.limit._value == 3  # one of 4 held while the stream is open
    await stream.aclose()
    assert deployment.limit._value == 4


async def test_among_equals_a_deployment_with_a_free_slot_goes_first() -> None:
    a, b = Scripted("a"), Scripted("b")
    router = _router([a, b], [], Clock())
    for _ in range(4):
        await router.deployment("a").limit.acquire()  # a is full
    targets = [Target("a", "m", weight=100), Target("b", "m")]
    assert {router.order(targets)[0].deployment for _ in range(50)} == {"b"}
