"""Exception handlers: every failure leaves in its caller's dialect envelope with its status.

OpenAI routes (and OpenAI callers of the shared /v1/models) get OpenAI's envelope; every other
request gets Google's.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from gemgate.api.openai import is_openai_request
from gemgate.core.errors import GemgateError, Internal, InvalidArgument, NotFound, QuotaExceeded
from gemgate.dialects.gemini.errors import error_body, retry_seconds
from gemgate.dialects.openai.errors import error_body as openai_error_body

log = logging.getLogger("gemgate")


def _reply(request: Request, error: GemgateError) -> JSONResponse:
    body = openai_error_body(error) if is_openai_request(request) else error_body(error)
    headers: dict[str, str] = {}
    if isinstance(error, QuotaExceeded) and (seconds := retry_seconds(error)) is not None:
        headers["Retry-After"] = str(seconds)
    return JSONResponse(body, status_code=error.code.http_status, headers=headers)


async def _on_gemgate_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GemgateError)
    return _reply(request, exc)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return _reply(request, NotFound(f"Method not found: {request.method} {request.url.path}"))
    if exc.status_code == 405:
        return _reply(
            request, NotFound(f"Method {request.method} is not allowed on {request.url.path}")
        )
    return _reply(request, InvalidArgument(str(exc.detail)))


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    return _reply(
        request, InvalidArgument(f"Invalid value at '{field}': {first.get('msg')}", field=field)
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _reply(request, Internal("Internal error encountered."))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GemgateError, _on_gemgate_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Exception, _on_unexpected)
