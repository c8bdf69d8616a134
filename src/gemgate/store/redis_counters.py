"""Quota counters in Redis, shared by every gemgate replica that points at the same server.

Each operation is one Lua script or one atomic command, so concurrent `hit`s from any number
of processes admit exactly `limit` per counter life.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

# Refuse without counting once at the limit, so a burst of refusals does not grow the count.
_HIT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current >= tonumber(ARGV[1]) then return current + 1 end
current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return current
"""
_ADD = """
local value = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
if tonumber(ARGV[2]) > 0 and redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
"""


def _ms(ttl: float | None) -> int:
    return 0 if ttl is None else max(1, int(ttl * 1000))


class RedisCounters:
    """core.ports.Counters over Redis; every key gets `prefix` in front."""

    def __init__(self, url: str, prefix: str) -> None:
        self._redis: Redis = Redis.from_url(url)
        self._prefix = prefix
        self._hit: Any = self._redis.register_script(_HIT)
        self._add: Any = self._redis.register_script(_ADD)

    async def hit(self, name: str, limit: int, ttl: float) -> int:
        return int(await self._hit(keys=[self._prefix + name], args=[limit, _ms(ttl)]))

    async def add(self, name: str, amount: float, ttl: float | None) -> float:
        return float(await self._add(keys=[self._prefix + name], args=[repr(amount), _ms(ttl)]))

    async def get(self, name: str) -> float | None:
        value = await self._redis.get(self._prefix + name)
        return None if value is None else float(value)

    async def seed(self, name: str, value: float, ttl: float | None) -> None:
        await self._redis.set(self._prefix + name, repr(value), nx=True, px=_ms(ttl) or None)

    async def aclose(self) -> None:
        await self._redis.aclose()
