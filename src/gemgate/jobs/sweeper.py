"""Runs a sweep (delete what expired) every `interval` seconds until cancelled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("gemgate.jobs")


async def sweep_forever(sweep: Callable[[], Awaitable[int]], interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            removed = await sweep()
        except Exception:  # a failed sweep is retried next round, never kills the server
            log.exception("sweep failed")
            continue
        if removed:
            log.info("swept %d expired items", removed)
