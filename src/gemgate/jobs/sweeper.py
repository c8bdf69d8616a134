"""Runs a sweep (delete what expired) every `interval` seconds until cancelled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger("gemgate.jobs")


async def sweep_forever(sweep: Callable[[], int], interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            removed = await asyncio.to_thread(sweep)
        except Exception:  # a failed sweep is retried next round, never kills the server
            log.exception("sweep failed")
            continue
        if removed:
            log.info("swept %d expired items", removed)
