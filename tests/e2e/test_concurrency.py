"""Many clients at once are all answered; a client that leaves frees the engine."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from tests.serving import RunningServer

pytestmark = pytest.mark.e2e

STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"


def _body(tokens: int) -> dict[str, object]:
    return {
        "contents": [{"parts": [{"text": "Write a long story about a dragon."}]}],
        "generationConfig": {"maxOutputTokens": tokens, "temperature": 0.7},
    }


async def _stream_events(client: httpx.AsyncClient, tokens: int) -> list[dict[str, object]]:
    events = []
    async with client.stream("POST", STREAM, json=_body(tokens)) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    return events


async def test_twelve_simultaneous_streams_are_all_answered(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        results = await asyncio.gather(*(_stream_events(client, 8) for _ in range(12)))
    for events in results:
        usage = events[-1]["usageMetadata"]
        assert isinstance(usage, dict) and usage["candidatesTokenCount"] == 8


async def test_a_short_request_is_admitted_while_long_streams_run(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        long_streams = [asyncio.create_task(_stream_events(client, 1000)) for _ in range(2)]
        await asyncio.sleep(0.5)
        short = await _stream_events(client, 4)
        still_running = [not task.done() for task in long_streams]
        for task in long_streams:
            task.cancel()
        await asyncio.gather(*long_streams, return_exceptions=True)
    assert short[-1]["usageMetadata"]
    assert all(still_running)


def _busy_slots(server: RunningServer) -> int:
    health = httpx.get(server.url + "/healthz", timeout=5).json()
    return int(sum(m["busySlots"] for m in health["models"].values()))


def test_a_client_that_disconnects_mid_stream_frees_the_engine(server: RunningServer) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        with client.stream("POST", STREAM, json=_body(2000)) as response:
            lines = response.iter_lines()
            assert next(line for line in lines if line.startswith("data: "))
            assert _busy_slots(server) == 1
        # Returns as soon as the slot frees; the bound only has to survive a loaded machine.
        deadline = time.monotonic() + 30
        while _busy_slots(server) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert _busy_slots(server) == 0
