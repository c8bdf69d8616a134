from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from gemgate.api.framing import json_array_stream, sse_stream
from gemgate.core.errors import Unavailable


async def failing_after_one() -> AsyncIterator[dict[str, Any]]:
    yield {"candidates": []}
    raise Unavailable("engine went away")


async def test_a_mid_stream_failure_ends_sse_with_an_integer_coded_error() -> None:
    events = [chunk async for chunk in sse_stream(failing_after_one())]
    assert events[0] == b'data: {"candidates":[]}\r\n\r\n'
    last = json.loads(events[-1].decode().removeprefix("data: "))
    assert last["error"]["code"] == 503 and last["error"]["status"] == "UNAVAILABLE"


async def test_a_mid_stream_failure_ends_the_json_array_validly() -> None:
    body = b"".join([chunk async for chunk in json_array_stream(failing_after_one())])
    items = json.loads(body)
    assert items[0] == {"candidates": []} and items[1]["error"]["code"] == 503


async def big_arguments() -> AsyncIterator[dict[str, Any]]:
    # A model may write any integer in a call's arguments; orjson stops at 64 bits.
    yield {"functionCall": {"name": "f", "args": {"n": 2**80, "s": "ünï ✓"}}}


async def test_integers_beyond_64_bits_and_unicode_survive_framing() -> None:
    (event,) = [chunk async for chunk in sse_stream(big_arguments())]
    assert "ünï ✓".encode() in event  # UTF-8 as is, not \u escapes
    payload = json.loads(event.decode().removeprefix("data: "))
    assert payload["functionCall"]["args"]["n"] == 2**80
