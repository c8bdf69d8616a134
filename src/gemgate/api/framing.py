"""Stream framings Google uses: SSE (alt=sse) and a streamed JSON array (no alt)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from gemgate.api.streaming import json_bytes
from gemgate.core.errors import GemgateError, Internal
from gemgate.dialects.gemini.errors import error_body


def sse_event(payload: dict[str, Any]) -> bytes:
    # Only `data: ` lines and blank lines: anything else breaks the SDK's parser.
    return b"data: " + json_bytes(payload) + b"\r\n\r\n"


async def _with_error_tail(
    payloads: AsyncIterator[dict[str, Any]],
) -> AsyncIterator[dict[str, Any]]:
    try:
        async for payload in payloads:
            yield payload
    except GemgateError as exc:
        yield error_body(exc)
    except Exception as exc:  # a mid-stream failure still ends the stream in-band
        yield error_body(Internal(f"generation failed: {type(exc).__name__}"))


async def sse_stream(payloads: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    async for payload in _with_error_tail(payloads):
        yield sse_event(payload)


async def json_array_stream(payloads: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    separator = b"["
    async for payload in _with_error_tail(payloads):
        yield separator + json_bytes(payload)
        separator = b",\r\n"
    yield b"[]" if separator == b"[" else b"]"
