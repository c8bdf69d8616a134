"""Relayed requests and the upstream resources they use.

The front of the relay path: it routes through the Router, and keeps explicit caches created
for a relayed model pinned to the deployment (the upstream credential) that holds them. A
request that names such a cache goes to that deployment only, with the upstream's cache name
in place of gemgate's.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, replace
from typing import Any

from gemgate.core.errors import NotFound
from gemgate.core.ports import Pin, PinStore
from gemgate.core.types import (
    CacheDraft,
    EmbedRequest,
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    StoredFile,
    StreamChunk,
)
from gemgate.services import relay_files
from gemgate.services.files import FileService
from gemgate.services.models import strip_resource_prefix
from gemgate.services.routing import Router

CACHE_PREFIX = "cachedContents/"
FILE_PREFIX = "files/"


def cache_resource(cache_id: str) -> str:
    return CACHE_PREFIX + cache_id.removeprefix(CACHE_PREFIX)


@dataclass(frozen=True)
class RelayedModel:
    """A public id in the routing table: its first choice's upstream model, and deployments."""

    id: str
    upstream_model: str
    deployments: tuple[str, ...]


def file_resource(file_id: str) -> str:
    return FILE_PREFIX + file_id


class Relay:
    def __init__(
        self,
        router: Router,
        pins: PinStore,
        files: FileService | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._router = router
        self._pins = pins
        self._files = files
        self._clock = clock

    def serves(self, model: str) -> bool:
        return self._router.serves(model)

    async def generate(self, request: GenerateRequest, project: str) -> GenerateResponse:
        request, only = await self._placed(request, project)
        return await self._router.generate(request, only)

    async def stream(
        self, request: GenerateRequest, project: str
    ) -> AsyncGenerator[StreamChunk, None]:
        request, only = await self._placed(request, project)
        async for chunk in self._router.stream(request, only):
            yield chunk

    async def _placed(
        self, request: GenerateRequest, project: str
    ) -> tuple[GenerateRequest, str | None]:
        """The request as the deployment holding its cache and files must see it, and that
        deployment (None: any). Files not yet upstream are uploaded there first."""
        request, only = self._pinned(request, project)
        if self._files is None:
            return request, only
        owned = relay_files.owned_files(self._files, project, relay_files.references(request))
        if not owned:
            return request, only
        pins = {ref: self._pins.get(file_resource(f.id)) for ref, f in owned.items()}
        held = {pin.deployment for pin in pins.values() if pin is not None}
        only = relay_files.one_deployment(held | ({only} if only else set()))
        uris = {ref: pin.upstream_name for ref, pin in pins.items() if pin is not None}
        for ref, file in owned.items():
            if ref not in uris:
                uris[ref], only = await self._upload(request.model, project, file, only)
        return relay_files.rewritten(request, uris), only

    async def _upload(
        self, model: str, project: str, file: StoredFile, only: str | None
    ) -> tuple[str, str]:
        files = self._files
        assert files is not None
        uri, deployment = await self._router.call(
            model, lambda up, _: up.upload_file(file, files.stream(file)), only
        )
        pin = Pin(file_resource(file.id), project, deployment, uri, self._clock())
        self._pins.add(pin)
        return uri, deployment

    def models(self) -> list[RelayedModel]:
        return [self._relayed(model) for model in self._router.models()]

    def _relayed(self, model: str) -> RelayedModel:
        targets = self._router.targets(model)
        first = min(targets, key=lambda t: t.priority)
        return RelayedModel(model, first.model, tuple(t.deployment for t in targets))

    async def describe(self, model: str) -> tuple[RelayedModel, dict[str, Any] | None]:
        """What gemgate knows of a relayed id, and the upstream's own description of it."""
        relayed = self._relayed(strip_resource_prefix(model))
        described, _ = await self._router.call(model, lambda up, m: up.describe(m))
        return relayed, described

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
