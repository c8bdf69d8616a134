"""Streamed responses of either dialect: compact JSON and a stream that answers at once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send


def json_bytes(payload: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON; orjson, or the standard library for what orjson refuses (integers
    beyond 64 bits in a function call's arguments, say)."""
    try:
        return orjson.dumps(payload)
    except TypeError:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class EagerStream(StreamingResponse):
    """A stream whose first piece leaves with the headers.

    Starlette's StreamingResponse sets up its disconnect watcher (an anyio task group and a
    second task) before it sends anything: work between the first token and the client. Here
    the headers and the first piece are written first; the rest streams under the same
    watcher, so a client that goes away still stops the generation at once.
    """

    def __init__(self, first: bytes, rest: AsyncIterator[bytes], media_type: str) -> None:
        super().__init__(rest, media_type=media_type)
        self._first = first

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            headers = self.raw_headers
            await send(
                {"type": "http.response.start", "status": self.status_code, "headers": headers}
            )
            await send({"type": "http.response.body", "body": self._first, "more_body": True})
        except OSError as exc:
            raise ClientDisconnect() from exc
        await super().__call__(scope, receive, send)

    async def stream_response(self, send: Send) -> None:
        async for chunk in self.body_iterator:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def eager_stream(body: AsyncIterator[bytes], media_type: str) -> EagerStream:
    """Wait for the stream's first piece, then answer with it (and the headers) at once."""
    try:
        first = await anext(body)
    except StopAsyncIteration:
        first = b""
    return EagerStream(first, body, media_type)
