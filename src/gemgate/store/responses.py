"""The exact-response cache in this process's memory (core.ports.ResponseCache): LRU + TTL.

The default for one process; replicas share store/redis_responses.py instead.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from gemgate.core.types import GenerateResponse


class MemoryResponseCache:
    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[float, GenerateResponse]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self._max > 0 and self._ttl > 0

    async def get(self, project: str, key: str) -> GenerateResponse | None:
        entry = self._entries.get((project, key))
        if entry is None:
            return None
        stored_at, response = entry
        if self._clock() - stored_at > self._ttl:
            del self._entries[(project, key)]
            return None
        self._entries.move_to_end((project, key))
        return response

    async def put(self, project: str, key: str, response: GenerateResponse) -> None:
        if not self.enabled:
            return
        self._entries[(project, key)] = (self._clock(), response)
        self._entries.move_to_end((project, key))
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
