"""The hand-off of one generation's chunks from an engine thread to the event loop.

Waking the event loop costs a system call and a context switch; on a small machine every
switch is taken from the cores llama.cpp decodes on. So the engine thread wakes the loop only
when the loop is waiting for chunks, and after the first batch the loop takes what has
gathered at most every `interval` seconds (a stream sends at that pace anyway). The first
chunk and the end of a generation (its finish, an error, the end) are handed over at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any


class HandOff:
    """Thread-safe: `put` from any thread, `take` on the loop that created it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float) -> None:
        self._loop = loop
        self._interval = interval
        self._lock = threading.Lock()
        self._pending: list[object] = []
        self._urgent = False
        self._waiter: asyncio.Future[None] | None = None
        self._urgent_only = False
        self._last_take = 0.0

    def put(self, item: object, urgent: bool) -> None:
        """Queue an item; wake the loop if it waits for one like it. RuntimeError: loop gone."""
        with self._lock:
            self._pending.append(item)
            self._urgent = self._urgent or urgent
            waiter = self._waiter
            if waiter is None or (self._urgent_only and not self._urgent):
                return
            self._waiter = None
        self._loop.call_soon_threadsafe(_wake, waiter)

    async def take(self, paced: bool) -> list[object]:
        """Everything queued, waiting for at least one item.

        Paced: not before `interval` after the previous take, unless the end came.
        """
        if paced and (delay := self._last_take + self._interval - time.monotonic()) > 0:
            await self._wait(urgent_only=True, timeout=delay)
        await self._wait(urgent_only=False, timeout=None)
        with self._lock:
            batch, self._pending, self._urgent = self._pending, [], False
        self._last_take = time.monotonic()
        return batch

    async def _wait(self, urgent_only: bool, timeout: float | None) -> None:
        with self._lock:
            if self._pending and (self._urgent or not urgent_only):
                return
            waiter = self._waiter = self._loop.create_future()
            self._urgent_only = urgent_only
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                if self._waiter is waiter:
                    self._waiter = None


def _wake(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_result(None)
