"""Explicit context caches (cachedContents): create, read, extend, delete, use.

A cache is a conversation prefix — contents, system instruction, tools — owned by one
project. At creation its prefix is rendered exactly as it will open every later prompt
(no generation prompt), prefilled once on the engine, and that KV state is saved under the
data dir. A request that uses it prefills only what follows; after a restart the first use
loads the saved state into a slot instead of prefilling. `usageMetadata.totalTokenCount` is
the prefix's token count.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import replace

from gemgate.core.errors import InvalidArgument, NotFound
from gemgate.core.ports import CachedContentStore, EngineProvider
from gemgate.core.types import CachedContent, CacheDraft, GenerateRequest
from gemgate.services.media import MediaResolver, needs_resolution
from gemgate.services.models import ModelRegistry, strip_resource_prefix
from gemgate.services.prompting import chat_messages
from gemgate.services.relaying import Relay
from gemgate.services.tools import plan_tools, tool_prompt

# The store's column width (PostgreSQL refuses longer text; SQLite would keep it).
DISPLAY_NAME_CHARS = 256

DEFAULT_TTL_SECONDS = 3600.0
CACHE_PREFIX = "cachedContents/"


def state_name(cache_id: str) -> str:
    """The saved KV state's file name: the cache id is lowercase hex, so it is a safe name."""
    return f"cache-{cache_id}.bin"


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
        media: MediaResolver | None = None,
        relay: Relay | None = None,
    ) -> None:
        self._relay = relay  # caches for relayed models live upstream, pinned to a deployment
        self._media = media
        self._store = store
        self._registry = registry
        self._engines = engines
        self._min_tokens = min_tokens
        self._clock = clock
        # Caches whose prefix state this process has on the engine (made or loaded here).
        self._warm: set[str] = set()

    async def create(self, project: str, draft: CacheDraft) -> CachedContent:
        if not draft.contents:
            raise InvalidArgument("contents is required to create a cache.", field="contents")
        if len(draft.display_name) > DISPLAY_NAME_CHARS:
            raise InvalidArgument(
                f"displayName is longer than {DISPLAY_NAME_CHARS} characters.", field="displayName"
            )
        if self._relay is not None and self._relay.serves(draft.model):
            return await self._create_upstream(self._relay, project, draft)
        model = self._registry.resolve(draft.model)
        if self._media is not None and needs_resolution(draft.contents, draft.system_instruction):
            # A cache holds what the model reads: documents become text now, so the cache
            # keeps working if the file is deleted or expires later.
            contents, system = await self._media.resolve(
                draft.contents, draft.system_instruction, project, model.local.id
            )
            draft = replace(draft, contents=contents, system_instruction=system)
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
        cache_id = secrets.token_hex(12)
        await engine.save_state(prompt, state_name(cache_id))
        self._warm.add(cache_id)
        now = self._clock()
        expires = self._expiry(now, draft.ttl_seconds, draft.expire_time)
        return self._stored(draft, cache_id, project, model.requested, now, expires, total)

    async def _create_upstream(
        self, relay: Relay, project: str, draft: CacheDraft
    ) -> CachedContent:
        now = self._clock()
        expires = self._expiry(now, draft.ttl_seconds, draft.expire_time)
        cache_id = secrets.token_hex(12)
        total = await relay.create_cache(project, cache_id, draft, expires - now)
        return self._stored(
            draft, cache_id, project, strip_resource_prefix(draft.model), now, expires, total
        )

    def _stored(
        self,
        draft: CacheDraft,
        cache_id: str,
        project: str,
        model: str,
        now: float,
        expires: float,
        total: int,
    ) -> CachedContent:
        """The cache a draft became, recorded."""
        cache = CachedContent(
            id=cache_id,
            project=project,
            model=model,
            display_name=draft.display_name,
            contents=draft.contents,
            system_instruction=draft.system_instruction,
            tools=draft.tools,
            tool_config=draft.tool_config,
            create_time=now,
            update_time=now,
            expire_time=expires,
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

    async def update(
        self, project: str, name: str, ttl: float | None, expire_time: float | None
    ) -> CachedContent:
        cache = self.get(project, name)
        if ttl is None and expire_time is None:
            raise InvalidArgument("Only ttl or expireTime can be updated.", field="ttl")
        now = self._clock()
        expires = self._expiry(now, ttl, expire_time)
        if self._relay is not None and self._relay.holds(cache.id):
            await self._relay.update_cache(project, cache.id, expires - now)
        self._store.set_expiry(cache.id, expires, now)
        return replace(cache, expire_time=expires, update_time=now)

    async def delete(self, project: str, name: str) -> None:
        cache = self.get(project, name)
        if self._relay is not None and self._relay.holds(cache.id):
            await self._relay.delete_cache(project, cache.id)
            self._store.delete(cache.id)
            return
        self._store.delete(cache.id)
        await self._discard(cache.model, cache.id)

    async def sweep(self) -> int:
        """Delete expired caches and their saved states; returns how many went."""
        expired = self._store.delete_expired(self._clock())
        for cache_id in expired:
            self._warm.discard(cache_id)
        if expired:
            engine = await self._engines.engine(self._registry.default_model)
            for cache_id in expired:
                engine.discard_state(state_name(cache_id))
        return len(expired)

    async def _discard(self, model: str, cache_id: str) -> None:
        self._warm.discard(cache_id)
        engine = await self._engines.engine(self._registry.resolve(model).local.id)
        engine.discard_state(state_name(cache_id))

    async def apply(
        self, project: str, request: GenerateRequest
    ) -> tuple[GenerateRequest, int, int | None]:
        """The request with the cache's prefix in front, the prefix's token count, and the
        engine slot its saved state was loaded into (first use in this process), if any."""
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
        slot = None
        if cache.id not in self._warm:
            engine = await self._engines.engine(self._registry.resolve(cache.model).local.id)
            slot = await engine.restore_state(state_name(cache.id))
            self._warm.add(cache.id)
        return combined, cache.total_tokens, slot
