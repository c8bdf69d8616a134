"""The usage ledger's writer: rows leave the request path at once and reach the store in batches.

`record` only queues a row. A background task writes what has gathered every `interval`
seconds or `batch_rows` rows, whichever comes first, in a worker thread (the store is
blocking). `aclose` (called by the app's lifespan on a clean shutdown) writes every queued row
before it returns, so none is lost.
"""

from __future__ import annotations

import asyncio
import logging
import time

from gemgate.core.ports import UsageRecord, UsageStore, UsageTotals

log = logging.getLogger("gemgate")


class UsageLedger:
    def __init__(self, store: UsageStore, interval: float, batch_rows: int) -> None:
        self._store = store
        self._interval = interval
        self._batch_rows = batch_rows
        self._queue: asyncio.Queue[UsageRecord | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def record(self, row: UsageRecord) -> None:
        self._queue.put_nowait(row)

    async def aclose(self) -> None:
        """Write everything queued, then stop."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        await self._task
        self._task = None

    def summary(self, by: str, since: float, key_id: str | None = None) -> list[UsageTotals]:
        return self._store.summary(by, since, key_id)

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            batch = [] if first is None else [first]
            stopping = first is None
            deadline = time.monotonic() + self._interval
            while not stopping and len(batch) < self._batch_rows:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    row = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:
                    break
                if row is None:
                    stopping = True
                else:
                    batch.append(row)
            if stopping:  # a clean shutdown: take whatever else is queued too
                batch.extend(row for row in self._drain() if row is not None)
            await self._write(batch)

    def _drain(self) -> list[UsageRecord | None]:
        rows: list[UsageRecord | None] = []
        while not self._queue.empty():
            rows.append(self._queue.get_nowait())
        return rows

    async def _write(self, batch: list[UsageRecord]) -> None:
        if not batch:
            return
        try:
            await asyncio.to_thread(self._store.add_many, batch)
        except Exception:
            # The ledger must not take requests down with it; the rows are logged instead.
            log.exception("usage ledger: could not write %d rows: %r", len(batch), batch)
