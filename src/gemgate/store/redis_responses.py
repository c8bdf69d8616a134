"""The exact-response cache in Redis (core.ports.ResponseCache), shared by every replica.

Each answer is one string key `<prefix>:<project>:<hash>` holding its JSON, with Redis's own
expiry as the TTL. A sorted set `<prefix>:index` ranks the keys by last use (wall-clock
seconds, comparable across replicas), so the oldest are evicted past `max_entries`. A Redis
that is down or slow makes the cache miss, logged: it never fails a request.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gemgate.core.serialize import response_from_json, response_to_json
from gemgate.core.types import GenerateResponse

log = logging.getLogger("gemgate.store.redis")


class RedisResponseCache:
    def __init__(
        self,
        client: Redis,
        ttl_seconds: float,
        max_entries: int,
        prefix: str = "gemgate:responses",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self._ttl = ttl_seconds
        self._max = max_entries
        self._prefix = prefix
        self._index = f"{prefix}:index"
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self._max > 0 and self._ttl > 0

    def _name(self, project: str, key: str) -> str:
        # The key is a fixed-length hash, so a ':' inside a project name stays unambiguous.
        return f"{self._prefix}:{project}:{key}"

    async def get(self, project: str, key: str) -> GenerateResponse | None:
        name = self._name(project, key)
        try:
            raw = await self._redis.get(name)
            if raw is None:
                return None
            await self._redis.zadd(self._index, {name: self._clock()}, xx=True)
        except RedisError as error:
            log.warning("response cache unavailable (miss): %s", error)
            return None
        try:
            return response_from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError) as error:
            log.warning("response cache entry %s unreadable (miss): %s", name, error)
            return None

    async def put(self, project: str, key: str, response: GenerateResponse) -> None:
        if not self.enabled:
            return
        name, now = self._name(project, key), self._clock()
        payload = json.dumps(response_to_json(response), separators=(",", ":"))
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(name, payload, px=max(1, int(self._ttl * 1000)))
                pipe.zadd(self._index, {name: now})
                # Entries Redis has expired by itself leave the index too.
                pipe.zremrangebyscore(self._index, "-inf", now - self._ttl)
                pipe.zcard(self._index)
                *_, size = await pipe.execute()
            if size > self._max:
                await self._evict(int(size) - self._max)
        except RedisError as error:
            log.warning("response cache unavailable (not stored): %s", error)

    async def _evict(self, count: int) -> None:
        oldest = await self._redis.zpopmin(self._index, count)
        names = [entry[0] for entry in oldest if isinstance(entry, tuple)]
        if names:
            await self._redis.delete(*names)
