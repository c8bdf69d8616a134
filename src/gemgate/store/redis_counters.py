"""Quota counters in Redis, shared by every gemgate replica that points at the same server.

Each operation is one Lua script or one atomic command, so concurrent `take`s from any number
of processes admit exactly `limit` per counter life.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gemgate.core.errors import Unavailable

_T = TypeVar("_T")

# Refuse without counting once at the limit, so a burst of refusals does not grow the count.
_TAKE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current >= tonumber(ARGV[2]) then return false end
local created = redis.call('EXISTS', KEYS[1]) == 0
local value = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
if created then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return value
"""
_ADD = """
local value = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
if tonumber(ARGV[2]) > 0 and redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
"""


async def _guarded(call: Awaitable[_T]) -> _T:
    """A Redis failure is a clear 503, not an unexplained 500."""
    try:
        return await call
    except RedisError as exc:
        raise Unavailable(f"The rate-limit store is unavailable: {exc}") from exc


def _ms(ttl: float | None) -> int:
    return 0 if ttl is None else max(1, int(ttl * 1000))


class RedisCounters:
    """core.ports.Counters over Redis; every key gets `prefix` in front.

    The client is the process's one Redis client (shared with the response cache); whoever
    made it closes it.
    """

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._take: Any = self._redis.register_script(_TAKE)
        self._add: Any = self._redis.register_script(_ADD)

    async def take(self, name: str, amount: float, limit: float, ttl: float) -> float | None:
        value = await _guarded(
            self._take(keys=[self._prefix + name], args=[repr(amount), repr(limit), _ms(ttl)])
        )
        return None if value is None else float(value)

    async def add(self, name: str, amount: float, ttl: float | None) -> float:
        args = [repr(amount), _ms(ttl)]
        return float(await _guarded(self._add(keys=[self._prefix + name], args=args)))

    async def get(self, name: str) -> float | None:
        value = await _guarded(self._redis.get(self._prefix + name))
        return None if value is None else float(value)

    async def seed(self, name: str, value: float, ttl: float | None) -> None:
        await _guarded(
            self._redis.set(self._prefix + name, repr(value), nx=True, px=_ms(ttl) or None)
        )

    async def aclose(self) -> None:
        """Nothing of its own to release: the client belongs to its maker."""
