"""Routing relayed model ids to upstream deployments.

A public model id in the routing table has targets: deployments with a weight, a priority and
the upstream's model id. Each request tries them in order — lowest priority first, weighted
random among equals, ejected deployments last — and retries failures that are worth it (429,
5xx, timeouts, lost connections) with exponential backoff and full jitter, waiting out a
`Retry-After` (up to a limit). A deployment that fails `eject_after_failures` times in a row
gets no traffic for `eject_seconds`, then is tried again (one more failure ejects it again; a
success clears it). Each deployment admits at most `max_concurrency` requests at once; the
rest wait. A stream is retried only until its first chunk: once a caller has received
anything, a request is never sent upstream again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from gemgate.core.errors import FailedPrecondition, UpstreamError
from gemgate.core.ports import Upstream
from gemgate.core.types import (
    EmbedRequest,
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    StreamChunk,
)
from gemgate.services.models import strip_resource_prefix

T = TypeVar("T")
log = logging.getLogger("gemgate.routing")


@dataclass(frozen=True)
class Target:
    deployment: str
    model: str
    weight: float = 1.0
    priority: int = 0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    backoff_initial: float = 0.25
    backoff_max: float = 8.0
    retry_after_max: float = 30.0
    eject_after_failures: int = 3
    eject_seconds: float = 30.0


@dataclass
class Deployment:
    """An upstream with its concurrency limit and passive health."""

    name: str
    upstream: Upstream
    max_concurrency: int
    failures: int = 0
    ejected_until: float = 0.0
    cooling_until: float = 0.0  # the upstream's Retry-After
    limit: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.limit = asyncio.Semaphore(self.max_concurrency)


@dataclass
class _Attempts:
    """One request's way through its targets."""

    order: list[Target]
    tried: set[str] = field(default_factory=set)
    count: int = 0
    last: UpstreamError | None = None


class Router:
    def __init__(
        self,
        deployments: list[Deployment],
        routes: dict[str, list[Target]],
        policy: RetryPolicy,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._deployments = {d.name: d for d in deployments}
        self._routes = routes
        self._policy = policy
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()

    def serves(self, model: str) -> bool:
        return strip_resource_prefix(model) in self._routes

    def targets(self, model: str) -> list[Target]:
        return list(self._routes[strip_resource_prefix(model)])

    def models(self) -> list[str]:
        return list(self._routes)

    def deployment(self, name: str) -> Deployment:
        return self._deployments[name]

    async def generate(self, request: GenerateRequest, only: str | None = None) -> GenerateResponse:
        response, name = await self.call(request.model, lambda u, m: u.generate(m, request), only)
        return replace(response, deployment=name)

    async def count_tokens(self, request: GenerateRequest) -> int:
        total, _ = await self.call(request.model, lambda up, m: up.count_tokens(m, request))
        return total

    async def embed(self, request: EmbedRequest) -> EmbedResponse:
        response, _ = await self.call(request.model, lambda up, m: up.embed(m, request))
        return response

    async def stream(
        self, request: GenerateRequest, only: str | None = None
    ) -> AsyncGenerator[StreamChunk, None]:
        attempts = self._attempts(request.model, only)
        while (target := await self._next(attempts)) is not None:
            deployment = self._deployments[target.deployment]
            async with deployment.limit:
                chunks = deployment.upstream.stream(target.model, request)
                try:
                    first = await anext(chunks)
                except (UpstreamError, StopAsyncIteration) as exc:
                    await chunks.aclose()
                    self._failed(deployment, attempts, _empty(exc, target))
                    continue
                self._succeeded(deployment)
                try:  # from here on the caller has output: no second attempt
                    yield replace(first, deployment=deployment.name)
                    async for chunk in chunks:
                        yield replace(chunk, deployment=deployment.name)
                finally:
                    await chunks.aclose()
                return
        raise self._exhausted(attempts)

    async def call(
        self,
        model: str,
        op: Callable[[Upstream, str], Awaitable[T]],
        only: str | None = None,
    ) -> tuple[T, str]:
        """`op` on the model's targets (or only the named deployment's) with retries; its
        result and the deployment that gave it."""
        attempts = self._attempts(model, only)
        while (target := await self._next(attempts)) is not None:
            deployment = self._deployments[target.deployment]
            try:
                async with deployment.limit:
                    result = await op(deployment.upstream, target.model)
            except UpstreamError as exc:
                self._failed(deployment, attempts, exc)
                continue
            self._succeeded(deployment)
            return result, deployment.name
        raise self._exhausted(attempts)

    def _attempts(self, model: str, only: str | None = None) -> _Attempts:
        targets = self._routes[strip_resource_prefix(model)]
        if only is not None:
            targets = [t for t in targets if t.deployment == only]
            if not targets:
                raise FailedPrecondition(
                    f"models/{strip_resource_prefix(model)} is no longer routed to deployment "
                    f"{only!r}, which holds the resource this request uses.",
                    field="model",
                )
        return _Attempts(self.order(targets))

    def order(self, targets: list[Target]) -> list[Target]:
        """Healthy targets by priority, weighted random among equals (those with a free slot
        first); cooling down after a Retry-After after the others; ejected ones last."""
        now = self._clock()
        healthy = [t for t in targets if self._deployments[t.deployment].ejected_until <= now]
        ejected = [t for t in targets if t not in healthy]

        def key(t: Target) -> tuple[bool, int, bool, float]:
            deployment = self._deployments[t.deployment]
            cooling = deployment.cooling_until > now
            # Among equals, one with a free slot beats one where the request would queue.
            full = deployment.limit.locked()
            return cooling, t.priority, full, -(self._rng.random() ** (1.0 / t.weight))

        keyed = sorted(healthy, key=key)
        return keyed + sorted(ejected, key=lambda t: self._deployments[t.deployment].ejected_until)

    async def _next(self, attempts: _Attempts) -> Target | None:
        """The next target to try, after waiting what it asks; None when none is left."""
        last = attempts.last
        if last is not None and not last.retryable:
            raise last
        policy = self._policy
        while attempts.count < policy.max_attempts and attempts.order:
            target = attempts.order[attempts.count % len(attempts.order)]
            deployment = self._deployments[target.deployment]
            wait = deployment.cooling_until - self._clock()
            if wait > policy.retry_after_max:
                attempts.order.remove(target)  # it asked for longer than we wait
                continue
            if target.deployment in attempts.tried:
                wait = max(wait, self._backoff(attempts.count))
            attempts.count += 1
            attempts.tried.add(target.deployment)
            if wait > 0:
                await self._sleep(wait)
            return target
        return None

    def _backoff(self, attempt: int) -> float:
        """Exponential with full jitter: uniform in [0, min(max, initial * 2^(n-1))]."""
        ceiling = min(self._policy.backoff_max, self._policy.backoff_initial * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)

    def _failed(self, deployment: Deployment, attempts: _Attempts, error: UpstreamError) -> None:
        attempts.last = error
        if not error.retryable:
            return
        now = self._clock()
        if error.retry_after is not None:
            deployment.cooling_until = now + error.retry_after
        deployment.failures += 1
        if deployment.failures >= self._policy.eject_after_failures:
            deployment.ejected_until = now + self._policy.eject_seconds
            log.warning(
                "upstream deployment %s ejected for %.0f s after %d failures in a row: %s",
                deployment.name,
                self._policy.eject_seconds,
                deployment.failures,
                error.message,
            )

    def _succeeded(self, deployment: Deployment) -> None:
        deployment.failures = 0
        deployment.ejected_until = 0.0

    def _exhausted(self, attempts: _Attempts) -> UpstreamError:
        if attempts.last is not None:
            return attempts.last
        return UpstreamError(
            "Every upstream for this model asked to wait longer than gemgate waits "
            "(Retry-After); try again later.",
            status=429,
        )

    async def aclose(self) -> None:
        for deployment in self._deployments.values():
            await deployment.upstream.aclose()


def _empty(exc: BaseException, target: Target) -> UpstreamError:
    if isinstance(exc, UpstreamError):
        return exc
    return UpstreamError(f"Upstream {target.deployment} ended the stream empty.", status=502)
