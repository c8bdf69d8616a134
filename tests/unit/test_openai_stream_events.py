"""OpenAI SSE framing: data lines, [DONE] at the end, one error event on a mid-stream failure."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

from gemgate.api.openai import sse_events
from gemgate.core import types as core
from gemgate.core.errors import Unavailable
from gemgate.dialects.openai.encode import ChunkEncoder


def chunk(text: str, reason: core.FinishReason | None = None) -> core.StreamChunk:
    usage = core.Usage(1, 1) if reason else None
    return core.StreamChunk(
        (core.Candidate(0, (core.TextPart(text),), reason),), "m", "r", 0.0, usage
    )


async def chunks(*items: core.StreamChunk | Exception) -> AsyncGenerator[core.StreamChunk, None]:
    for item in items:
        if isinstance(item, Exception):
            raise item
        yield item


async def frames(*items: core.StreamChunk | Exception) -> list[bytes]:
    rest = chunks(*items)
    first = await anext(rest)
    return [frame async for frame in sse_events(ChunkEncoder(True), first, rest)]


def data(frame: bytes) -> Any:
    assert frame.startswith(b"data: ") and frame.endswith(b"\n\n")
    return json.loads(frame[len(b"data: ") : -2])


async def test_a_stream_is_data_events_then_done() -> None:
    out = await frames(chunk("a"), chunk("b", core.FinishReason.STOP))
    assert out[-1] == b"data: [DONE]\n\n"
    payloads = [data(frame) for frame in out[:-1]]
    assert [p["object"] for p in payloads] == ["chat.completion.chunk"] * 3
    assert payloads[-1]["choices"] == [] and payloads[-1]["usage"]["total_tokens"] == 2


async def test_a_mid_stream_failure_is_one_error_event_and_no_done() -> None:
    out = await frames(chunk("a"), Unavailable("engine went away"))
    assert data(out[-1]) == {
        "error": {
            "message": "engine went away",
            "type": "service_unavailable_error",
            "param": None,
            "code": "unavailable",
        }
    }
    assert b"[DONE]" not in b"".join(out)


async def test_an_unexpected_failure_is_a_server_error_event() -> None:
    out = await frames(chunk("a"), RuntimeError("boom"))
    assert data(out[-1])["error"]["type"] == "server_error"
