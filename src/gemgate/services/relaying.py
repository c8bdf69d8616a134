"""Relayed requests and the upstream resources they use.

The front of the relay path: it routes through the Router, and keeps explicit caches created
for a relayed model pinned to the deployment (the upstream credential) that holds them. A
request that names such a cache goes to that deployment only, with the upstream's cache name
in place of gemgate's.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import replace

from gemgate.core.errors import NotFound
from gemgate.core.ports import Pin, PinStore
from gemgate.core.types import (
    CacheDraft,
    EmbedRequest,
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    StreamChunk,
)
from gemgate.services.routing import Router

CACHE_PREFIX = "cachedContents/"


def cache_resource(cache_id: str) -> str:
    return CACHE_PREFIX + cache_id.removeprefix(CACHE_PREFIX)


class Relay:
    def __init__(
        self, router: Router, pins: PinStore, clock: Callable[[], float] = time.time
    ) -> None:
        self._router = router
        self._pins = pins
        self._clock = clock

    def serves(self, model: str) -> bool:
        return self._router.serves(model)

    async def generate(self, request: GenerateRequest, project: str) -> GenerateResponse:
        request, only = self._pinned(request, project)
        return await self._router.generate(request, only)

    async def stream(
        self, request: GenerateRequest, project: str
    ) -> AsyncGenerator[StreamChunk, None]:
        request, only = self._pinned(request, project)
        async for chunk in self._router.stream(request, only):
            yield chunk

    async def count_tokens(self, request: GenerateRequest) -> int:
        return await self._router.count_tokens(request)

    async def embed(self, request: EmbedRequest) -> EmbedResponse:
        return await self._router.embed(request)

    def _pinned(self, request: GenerateRequest, project: str) -> tuple[GenerateRequest, str | None]:
        """The request as its cache's deployment must see it, and that deployment."""
        if not request.cached_content:
            return request, None
        pin = self._pin(project, request.cached_content)
        native = None
        if request.native is not None:
            native = {
                k: v
                for k, v in request.native.items()
                if k not in ("cachedContent", "cached_content")
            }
            native["cachedContent"] = pin.upstream_name
        return replace(request, cached_content=pin.upstream_name, native=native), pin.deployment

    def _pin(self, project: str, name: str) -> Pin:
        pin = self._pins.get(cache_resource(name))
        if pin is None or pin.project != project:
            raise NotFound(
                f"CachedContent not found (or permission denied): {name}", field="cachedContent"
            )
        return pin

    async def create_cache(
        self, project: str, cache_id: str, draft: CacheDraft, ttl_seconds: float
    ) -> int:
        """Create the cache upstream and pin it; the prefix's tokens as the upstream counts."""
        made, deployment = await self._router.call(
            draft.model, lambda up, model: up.create_cache(model, draft, ttl_seconds)
        )
        pin = Pin(cache_resource(cache_id), project, deployment, made.name, self._clock())
        self._pins.add(pin)
        return made.total_tokens

    def holds(self, cache_id: str) -> bool:
        return self._pins.get(cache_resource(cache_id)) is not None

    async def update_cache(self, project: str, cache_id: str, ttl_seconds: float) -> None:
        pin = self._pin(project, cache_id)
        upstream = self._router.deployment(pin.deployment).upstream
        await upstream.update_cache(pin.upstream_name, ttl_seconds)

    async def delete_cache(self, project: str, cache_id: str) -> None:
        pin = self._pin(project, cache_id)
        upstream = self._router.deployment(pin.deployment).upstream
        await upstream.delete_cache(pin.upstream_name)
        self._pins.delete(pin.resource)

    async def aclose(self) -> None:
        await self._router.aclose()
