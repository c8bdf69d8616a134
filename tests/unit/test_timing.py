"""The Server-Timing header, and the access line written once a response has been sent."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from gemgate.api.timing import ServerTiming


async def chunks() -> AsyncIterator[bytes]:
    yield b"one"
    yield b"two"


async def streamed(request: Request) -> Response:
    return StreamingResponse(chunks(), media_type="text/plain")


async def refused(request: Request) -> Response:
    return PlainTextResponse("no", status_code=404)


async def broken(request: Request) -> Response:
    raise RuntimeError("boom")


APP = Starlette(
    routes=[Route("/s", streamed), Route("/missing", refused), Route("/broken", broken)]
)
APP.add_middleware(ServerTiming)


def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=APP, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_a_stream_is_timed_and_logged_after_its_last_byte(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="gemgate.access"):
        async with client() as http:
            response = await http.get("/s", params={"alt": "sse"})
    assert response.text == "onetwo"
    name, _, duration = response.headers["server-timing"].partition(";dur=")
    assert name == "app" and float(duration) >= 0
    (record,) = [r for r in caplog.records if r.name == "gemgate.access"]
    assert '"GET /s?alt=sse HTTP/1.1" 200' in record.getMessage()


async def test_errors_are_logged_with_their_status(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="gemgate.access"):
        async with client() as http:
            assert (await http.get("/missing")).status_code == 404
            assert (await http.get("/broken")).status_code == 500
    lines = [r.getMessage() for r in caplog.records if r.name == "gemgate.access"]
    assert '"GET /missing HTTP/1.1" 404' in lines[0]
    assert '"GET /broken HTTP/1.1" 500' in lines[1]


async def test_an_api_key_in_the_query_never_reaches_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="gemgate.access"):
        async with client() as http:
            await http.get("/s", params={"alt": "sse", "key": "sk-secret"})
    (line,) = [r.getMessage() for r in caplog.records if r.name == "gemgate.access"]
    assert "sk-secret" not in line and "/s?alt=sse&key=REDACTED " in line
