"""Server-Timing on every response (the time from request to response start, in ms), and the
access log line, written once the response has been sent.

Pure ASGI (no BaseHTTPMiddleware), so streams pass untouched; for a stream the header is the
time to the first byte. Benchmarks read it to separate server time from the client's.

uvicorn writes its access line as a response starts, between a stream's first token and its
first byte; `gemgate serve` turns that off and this middleware writes the line at the end,
with the response's duration (a stream's whole length).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("gemgate.access")


class ServerTiming:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0  # no response started (the client left first)

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                elapsed = (time.perf_counter() - started) * 1000
                headers: list[Any] = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={elapsed:.2f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self._app(scope, receive, timed_send)
        except BaseException:
            status = status or 500  # what the server error middleware outside answers
            raise
        finally:
            if access_log.isEnabledFor(logging.INFO):
                _log_access(scope, status, (time.perf_counter() - started) * 1000)


def _log_access(scope: Scope, status: int, duration_ms: float) -> None:
    client = scope.get("client")
    who = f"{client[0]}:{client[1]}" if client else "-"
    query = _redacted(scope.get("query_string", b"").decode("latin-1"))
    path = scope.get("root_path", "") + scope["path"] + (f"?{query}" if query else "")
    version = scope.get("http_version", "1.1")
    method = scope["method"]
    access_log.info(
        '%s - "%s %s HTTP/%s" %d %.1f ms', who, method, path, version, status, duration_ms
    )


def _redacted(query: str) -> str:
    """The query string with the value of `key` (an API key, as REST callers send it) hidden."""
    if not query:
        return query
    return "&".join(
        "key=REDACTED" if item.split("=", 1)[0] == "key" else item for item in query.split("&")
    )
