"""The engine-thread hand-off: the first chunk and the end at once, the rest paced."""

from __future__ import annotations

import asyncio
import threading
import time

from gemgate.engines.llamacpp.handoff import HandOff


async def _from_thread(handoff: HandOff, items: list[tuple[object, bool, float]]) -> None:
    """Put (item, urgent, delay before it) from a real thread, as the engine does."""

    def run() -> None:
        for item, urgent, delay in items:
            time.sleep(delay)
            handoff.put(item, urgent)

    thread = threading.Thread(target=run)
    thread.start()
    await asyncio.to_thread(thread.join)


async def test_the_first_item_is_taken_as_soon_as_it_arrives() -> None:
    handoff = HandOff(asyncio.get_running_loop(), interval=10.0)
    started = time.monotonic()
    feeder = asyncio.create_task(_from_thread(handoff, [("a", False, 0.05)]))
    assert await handoff.take(paced=False) == ["a"]
    assert time.monotonic() - started < 5.0  # not held for the interval
    await feeder


async def test_paced_takes_gather_what_arrived_during_the_interval() -> None:
    handoff = HandOff(asyncio.get_running_loop(), interval=0.3)
    handoff.put("first", False)
    assert await handoff.take(paced=False) == ["first"]
    took = time.monotonic()
    feeder = asyncio.create_task(_from_thread(handoff, [(i, False, 0.01) for i in range(5)]))
    batch = await handoff.take(paced=True)
    assert batch == [0, 1, 2, 3, 4]
    assert time.monotonic() - took >= 0.29
    await feeder


async def test_the_end_cuts_the_pause_short() -> None:
    handoff = HandOff(asyncio.get_running_loop(), interval=30.0)
    handoff.put("first", False)
    await handoff.take(paced=False)
    started = time.monotonic()
    feeder = asyncio.create_task(_from_thread(handoff, [("t", False, 0.0), ("end", True, 0.05)]))
    assert await handoff.take(paced=True) == ["t", "end"]
    assert time.monotonic() - started < 10.0
    await feeder


async def test_an_unpaced_take_waits_for_any_item() -> None:
    handoff = HandOff(asyncio.get_running_loop(), interval=30.0)
    feeder = asyncio.create_task(_from_thread(handoff, [("x", False, 0.05), ("y", False, 0.0)]))
    first = await asyncio.wait_for(handoff.take(paced=False), 10.0)
    assert first[0] == "x"
    await feeder
    rest = first[1:] or await handoff.take(paced=False)
    assert rest == ["y"]


async def test_a_cancelled_take_leaves_no_waiter_behind() -> None:
    handoff = HandOff(asyncio.get_running_loop(), interval=0.0)
    task = asyncio.create_task(handoff.take(paced=False))
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    handoff.put("later", False)  # must not touch the cancelled future
    assert await handoff.take(paced=False) == ["later"]
