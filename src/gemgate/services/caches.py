"""Explicit context caches (cachedContents): create, read, extend, delete, use.

A cache is a conversation prefix — contents, system instruction, tools — owned by one
project. At creation its prefix is rendered exactly as it will open every later prompt
(no generation prompt) and prefilled once on the engine, so a request that uses it prefills
only what follows. `usageMetadata.totalTokenCount` is that prefix's token count.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import replace

from gemgate.core.errors import InvalidArgument, NotFound
from gemgate.core.ports import CachedContentStore, EngineProvider, SamplingParams
from gemgate.core.types import CachedContent, CacheDraft, GenerateRequest
from gemgate.services.models import ModelRegistry, strip_resource_prefix
from gemgate.services.prompting import chat_messages
from gemgate.services.tools import plan_tools, tool_prompt

DEFAULT_TTL_SECONDS = 3600.0
CACHE_PREFIX = "cachedContents/"


def cache_id_of(name: str) -> str:
    return name.removeprefix(CACHE_PREFIX)


def _not_found(name: str) -> NotFound:
    return NotFound(f"CachedContent not found (or permission denied): {name}", field="name")


class CacheService:
    def __init__(
        self,
        store: CachedContentStore,
        registry: ModelRegistry,
        engines: EngineProvider,
        min_tokens: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._registry = registry
        self._engines = engines
        self._min_tokens = min_tokens
        self._clock = clock

    async def create(self, project: str, draft: CacheDraft) -> CachedContent:
        model = self._registry.resolve(draft.model)
        if not draft.contents:
            raise InvalidArgument("contents is required to create a cache.", field="contents")
        probe = GenerateRequest(
            draft.model,
            draft.contents,
            draft.system_instruction,
            tools=draft.tools,
            tool_config=draft.tool_config,
        )
        prompt = await self._prefix_prompt(probe, model.local.id)
        engine = await self._engines.engine(model.local.id)
        total = await engine.count_tokens(prompt)
        if total < self._min_tokens:
            raise InvalidArgument(
                f"Cached content is too small. total_token_count={total}, "
                f"min_total_token_count={self._min_tokens}",
                field="contents",
            )
        await self._prefill(model.local.id, prompt)
        now = self._clock()
        cache = CachedContent(
            id=secrets.token_hex(12),
            project=project,
            model=model.requested,
            display_name=draft.display_name,
            contents=draft.contents,
            system_instruction=draft.system_instruction,
            tools=draft.tools,
            tool_config=draft.tool_config,
            create_time=now,
            update_time=now,
            expire_time=self._expiry(now, draft.ttl_seconds, draft.expire_time),
            total_tokens=total,
        )
        self._store.add(cache)
        return cache

    async def _prefix_prompt(self, request: GenerateRequest, local_id: str) -> str:
        tools = plan_tools(request)
        section = tool_prompt(tools) if tools.calls_possible else None
        messages = chat_messages(request.contents, request.system_instruction, local_id, section)
        engine = await self._engines.engine(local_id)
        return await engine.render(messages, add_generation_prompt=False)

    async def _prefill(self, local_id: str, prompt: str) -> None:
        """Evaluate the prefix once so the engine's prompt cache holds its KV state."""
        engine = await self._engines.engine(local_id)
        async for _ in engine.generate(prompt, SamplingParams(max_tokens=1, temperature=0.0)):
            pass

    def _expiry(self, now: float, ttl: float | None, expire_time: float | None) -> float:
        if ttl is not None and expire_time is not None:
            raise InvalidArgument("Set ttl or expireTime, not both.", field="ttl")
        if expire_time is not None:
            if expire_time <= now:
                raise InvalidArgument("expireTime must be in the future.", field="expireTime")
            return expire_time
        seconds = DEFAULT_TTL_SECONDS if ttl is None else ttl
        if seconds <= 0:
            raise InvalidArgument("ttl must be positive.", field="ttl")
        return now + seconds

    def get(self, project: str, name: str) -> CachedContent:
        cache = self._store.get(cache_id_of(name))
        if cache is None or cache.project != project or cache.expire_time <= self._clock():
            raise _not_found(name)
        return cache

    def list(self, project: str) -> list[CachedContent]:
        now = self._clock()
        return [c for c in self._store.list(project) if c.expire_time > now]

    def update(
        self, project: str, name: str, ttl: float | None, expire_time: float | None
    ) -> CachedContent:
        cache = self.get(project, name)
        if ttl is None and expire_time is None:
            raise InvalidArgument("Only ttl or expireTime can be updated.", field="ttl")
        now = self._clock()
        expires = self._expiry(now, ttl, expire_time)
        self._store.set_expiry(cache.id, expires, now)
        return replace(cache, expire_time=expires, update_time=now)

    def delete(self, project: str, name: str) -> None:
        cache = self.get(project, name)
        self._store.delete(cache.id)

    def sweep(self) -> int:
        """Delete expired caches; returns how many went."""
        return self._store.delete_expired(self._clock())

    def apply(self, project: str, request: GenerateRequest) -> tuple[GenerateRequest, int]:
        """The request with the cache's prefix in front, and the prefix's token count."""
        assert request.cached_content is not None
        cache = self.get(project, request.cached_content)
        asked = strip_resource_prefix(request.model)
        if asked != cache.model:
            raise InvalidArgument(
                f"Model used by GenerateContent request (models/{asked}) and CachedContent "
                f"(models/{cache.model}) has to be the same.",
                field="model",
            )
        if request.system_instruction or request.tools or request.tool_config:
            raise InvalidArgument(
                "CachedContent can not be used with GenerateContent request setting "
                "system_instruction, tools or tool_config. Move those values to CachedContent.",
                field="cachedContent",
            )
        combined = replace(
            request,
            contents=cache.contents + request.contents,
            system_instruction=cache.system_instruction,
            tools=cache.tools,
            tool_config=cache.tool_config,
            cached_content=None,
        )
        return combined, cache.total_tokens
