"""Quota counters in this process's memory: the default when no Redis is configured.

Every method runs to completion without awaiting, so on one event loop each is atomic: N
concurrent `take`s of 1 on one counter admit exactly `limit`. Expired counters are dropped lazily.
"""

from __future__ import annotations

import time

_PRUNE_EVERY = 4096  # writes between sweeps of expired counters


class MemoryCounters:
    """core.ports.Counters for one process."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[float, float | None]] = {}  # name -> (value, expires)
        self._writes = 0

    def _live(self, name: str, now: float) -> float | None:
        entry = self._values.get(name)
        if entry is None:
            return None
        value, expires = entry
        if expires is not None and expires <= now:
            del self._values[name]
            return None
        return value

    def _set(self, name: str, value: float, expires: float | None) -> None:
        self._values[name] = (value, expires)
        self._writes += 1
        if self._writes % _PRUNE_EVERY == 0:
            now = time.monotonic()
            for key in [k for k, (_, e) in self._values.items() if e is not None and e <= now]:
                del self._values[key]

    def _expiry(self, name: str, ttl: float | None, now: float) -> float | None:
        entry = self._values.get(name)
        if entry is not None:
            return entry[1]  # a counter keeps the life it was created with
        return None if ttl is None else now + ttl

    async def take(self, name: str, amount: float, limit: float, ttl: float) -> float | None:
        now = time.monotonic()
        current = self._live(name, now) or 0.0
        if current >= limit:
            return None
        self._set(name, current + amount, self._expiry(name, ttl, now))
        return current + amount

    async def add(self, name: str, amount: float, ttl: float | None) -> float:
        now = time.monotonic()
        value = (self._live(name, now) or 0.0) + amount
        self._set(name, value, self._expiry(name, ttl, now))
        return value

    async def get(self, name: str) -> float | None:
        return self._live(name, time.monotonic())

    async def seed(self, name: str, value: float, ttl: float | None) -> None:
        now = time.monotonic()
        if self._live(name, now) is None:
            self._set(name, value, None if ttl is None else now + ttl)

    async def aclose(self) -> None:
        self._values.clear()
