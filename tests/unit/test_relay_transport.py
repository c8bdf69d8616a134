"""The upstream transport's pure pieces: Retry-After, SSE data lines, error messages."""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate

import aiohttp
import pytest
from aiohttp.base_protocol import BaseProtocol

from gemgate.engines.relay import transport


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert transport.retry_after("2") == 2.0
    assert transport.retry_after("0.5") == 0.5
    later = transport.retry_after(formatdate(time.time() + 30, usegmt=True))
    assert later is not None and 28 <= later <= 31
    assert transport.retry_after("soon") is None
    assert transport.retry_after(None) is None


async def _lines(pieces: list[bytes]) -> list[bytes]:
    loop = asyncio.get_running_loop()
    protocol = BaseProtocol(loop)
    stream = aiohttp.StreamReader(protocol, 2**20, loop=loop)  # no back-pressure here
    for piece in pieces:
        stream.feed_data(piece)
    stream.feed_eof()
    return [line async for line in transport._data_lines(stream)]


async def test_sse_data_lines_survive_any_split_and_any_length() -> None:
    big = b"x" * 300_000  # longer than readline allows with aiohttp's default 64 KiB buffer
    wire = b'data: {"a":1}\r\n\r\n: comment\ndata: ' + big + b"\n\ndata: [DONE]\n\n"
    pieces = [wire[i : i + 7] for i in range(0, len(wire), 7)]
    assert await _lines(pieces) == [b'{"a":1}', big, b"[DONE]"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"error": {"code": 429, "message": "Quota exceeded"}}', "Quota exceeded"),
        (b"<html>bad gateway</html>", "<html>bad gateway</html>"),
    ],
)
def test_error_message_is_the_upstreams_own(body: bytes, expected: str) -> None:
    assert expected in transport._message(body, 429)
