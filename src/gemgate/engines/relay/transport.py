"""HTTP to an upstream: one pooled httpx client per deployment, errors as UpstreamError.

A timeout is reported as 504 and a lost connection as 502, so the router retries them like
an upstream's own 5xx. `Retry-After` (seconds or an HTTP date) travels with the error.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from gemgate.core.errors import UpstreamError

T = TypeVar("T")
Headers = Callable[[], Awaitable[dict[str, str]]]


def retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _message(body: bytes, status: int) -> str:
    """The upstream's own message when its body is Google's or OpenAI's error envelope."""
    try:
        data = json.loads(body)
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and error.get("message"):
            return f"Upstream error {status}: {error['message']}"
    except (ValueError, UnicodeDecodeError):
        pass
    return f"Upstream error {status}: {body[:200].decode('utf-8', 'replace')}"


def error_of(response: httpx.Response, body: bytes) -> UpstreamError:
    return UpstreamError(
        _message(body, response.status_code),
        status=response.status_code,
        retry_after=retry_after(response.headers.get("retry-after")),
    )


def timeouts(connect: float, read: float) -> httpx.Timeout:
    return httpx.Timeout(read, connect=connect)


class Transport:
    """POSTs JSON to one upstream and reads JSON or SSE back."""

    def __init__(
        self, client: httpx.AsyncClient, name: str, headers: Headers | None = None
    ) -> None:
        self._client = client
        self._name = name
        self._headers = headers

    async def _auth(self) -> dict[str, str]:
        return await self._headers() if self._headers is not None else {}

    async def post_json(
        self, url: str, body: dict[str, Any], decode: Callable[[dict[str, Any]], T]
    ) -> T:
        """The upstream's JSON answer, decoded (an answer that does not decode is a 502)."""
        async with self._guard():
            response = await self._client.post(url, json=body, headers=await self._auth())
            if response.status_code != 200:
                raise error_of(response, response.content)
            return decode(response.json())

    async def aclose(self) -> None:
        await self._client.aclose()

    async def sse(
        self, url: str, body: dict[str, Any], decode: Callable[[dict[str, Any]], T]
    ) -> AsyncIterator[T]:
        """The `data:` events of an SSE stream, decoded; `[DONE]` ends it."""
        headers = await self._auth()
        async with self._guard():
            request = self._client.build_request("POST", url, json=body, headers=headers)
            response = await self._client.send(request, stream=True)
            try:
                if response.status_code != 200:
                    raise error_of(response, await response.aread())
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        return
                    event = json.loads(payload)
                    if isinstance(event, dict) and isinstance(event.get("error"), dict):
                        raise _in_band(event["error"])
                    yield decode(event)
            finally:
                await response.aclose()

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        try:
            yield
        except httpx.TimeoutException as exc:
            raise UpstreamError(
                f"Upstream {self._name} did not answer in time ({type(exc).__name__}).",
                status=504,
            ) from exc
        except httpx.TransportError as exc:
            raise UpstreamError(
                f"Upstream {self._name} could not be reached ({type(exc).__name__}).",
                status=502,
            ) from exc
        except (ValueError, KeyError, TypeError) as exc:  # not the JSON it should be
            raise UpstreamError(
                f"Upstream {self._name} sent an answer gemgate cannot read: {exc}", status=502
            ) from exc


def _in_band(error: dict[str, Any]) -> UpstreamError:
    code = error.get("code")
    status = code if isinstance(code, int) else 500
    return UpstreamError(f"Upstream error {status}: {error.get('message', '')}", status=status)
