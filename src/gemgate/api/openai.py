"""OpenAI-compatible routes: chat/completions (plain and streamed), embeddings and models.

Mounted by the app under /v1beta/openai (Google's path) and /v1. At /v1 the models routes
clash with the native Gemini ones; they match only callers that speak OpenAI (a Bearer token
and no Google key), so google-genai's GET /v1/models still reaches the Gemini router.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.datastructures import Headers, QueryParams
from starlette.routing import Match
from starlette.types import Scope

from gemgate.api.auth import authenticate
from gemgate.api.body import parse_json, read_body
from gemgate.api.embeddings import openai_embeddings_response
from gemgate.api.streaming import eager_stream, json_bytes
from gemgate.core.errors import (
    GemgateError,
    Internal,
    InvalidArgument,
    PermissionDenied,
    Unauthenticated,
)
from gemgate.core.types import GenerateRequest, StreamChunk
from gemgate.dialects.openai import decode, encode
from gemgate.dialects.openai import schemas as wire
from gemgate.dialects.openai.errors import error_body, from_validation_error
from gemgate.services.accounting import Accountant, Meter
from gemgate.services.embeddings import EmbeddingService
from gemgate.services.generation import GenerationService
from gemgate.services.keys import KeyService, Principal
from gemgate.services.models import ModelRegistry

log = logging.getLogger("gemgate")

OPENAI_PREFIX = "/v1beta/openai"
# Paths under /v1 that only the OpenAI dialect has (Gemini's /v1 has models, files, ...).
_OPENAI_ONLY = ("/v1/chat/", "/v1/completions", "/v1/embeddings", "/v1/images/", "/v1/audio/")


@dataclass(frozen=True)
class OpenAIDeps:
    registry: ModelRegistry
    generation: GenerationService
    keys: KeyService
    max_request_bytes: int
    accountant: Accountant
    created: int  # what model objects report as `created`: when this server started
    embeddings: EmbeddingService | None = None


def caller_speaks_openai(headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
    """A Bearer token and no Google key: the `openai` SDK's way of calling."""
    if headers.get("x-goog-api-key") or query.get("key"):
        return False
    return headers.get("authorization", "").lower().startswith("bearer ")


def is_openai_request(request: Request) -> bool:
    """Whether a request (even one no route matched) should be answered in OpenAI's dialect."""
    path = request.url.path
    if path == OPENAI_PREFIX or path.startswith(OPENAI_PREFIX + "/"):
        return True
    if path.startswith(_OPENAI_ONLY):
        return True
    if path == "/v1/models" or path.startswith("/v1/models/"):
        return caller_speaks_openai(request.headers, request.query_params)
    return False


class CallerDialectRoute(APIRoute):
    """Matches only callers that speak OpenAI; others fall through to the next route."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is Match.NONE or scope["type"] != "http":
            return match, child_scope
        query = QueryParams(scope.get("query_string", b"").decode("latin-1"))
        if not caller_speaks_openai(Headers(scope=scope), query):
            return Match.NONE, {}
        return match, child_scope


def openai_router(deps: OpenAIDeps, *, shared_root: bool = False) -> APIRouter:
    """`shared_root`: mounted at /v1, where the models routes belong to whoever calls."""
    router = APIRouter()
    handlers = _Handlers(deps)
    models_route = CallerDialectRoute if shared_root else APIRoute
    router.add_api_route("/chat/completions", handlers.chat_completions, methods=["POST"])
    if deps.embeddings is not None:
        router.add_api_route("/embeddings", handlers.embeddings, methods=["POST"])
    router.add_api_route(
        "/models", handlers.list_models, methods=["GET"], route_class_override=models_route
    )
    router.add_api_route(
        "/models/{name:path}",
        handlers.get_model,
        methods=["GET"],
        route_class_override=models_route,
    )
    return router


class _Handlers:
    def __init__(self, deps: OpenAIDeps) -> None:
        self._deps = deps

    def _authenticate(self, request: Request) -> Principal:
        try:
            return authenticate(request, self._deps.keys)
        except (PermissionDenied, InvalidArgument) as exc:
            # OpenAI answers a missing or wrong key with 401 (the SDK's AuthenticationError).
            raise Unauthenticated(exc.message, field="key") from exc

    async def _request(self, request: Request) -> wire.ChatCompletionRequest:
        data = parse_json(await read_body(request, self._deps.max_request_bytes))
        try:
            return wire.ChatCompletionRequest.model_validate(data)
        except ValidationError as exc:
            raise from_validation_error(exc) from exc

    async def chat_completions(self, request: Request) -> Response:
        principal = self._authenticate(request)
        body = await self._request(request)
        accountant = self._deps.accountant
        async with accountant.metered(principal, "chat.completions", body.model) as meter:
            core_request = decode.decode_chat_request(body)
            generation = self._deps.generation
            await meter.reserve(lambda: generation.prompt_tokens(core_request, principal.project))
            if body.stream:
                include_usage = bool(body.stream_options and body.stream_options.include_usage)
                return await self._stream(core_request, include_usage, meter)
            response = await generation.generate(core_request, principal.project)
            await meter.done(response.usage, response.model_version, response.deployment)
        return JSONResponse(encode.encode_completion(response))

    async def embeddings(self, request: Request) -> Response:
        principal = self._authenticate(request)
        if self._deps.embeddings is None:  # the route is mounted only with a service
            raise InvalidArgument("Embeddings are not served.", field="model")
        data = parse_json(await read_body(request, self._deps.max_request_bytes))
        return await openai_embeddings_response(
            self._deps.embeddings, data, self._deps.accountant, principal
        )

    async def _stream(
        self, core_request: GenerateRequest, include_usage: bool, meter: Meter
    ) -> Response:
        chunks = meter.watch(self._deps.generation.stream(core_request, meter.project))
        # Failures before the first chunk (unknown model, refused input) are plain HTTP
        # errors; only later ones travel in-band.
        first = await anext(chunks)
        events = sse_events(encode.ChunkEncoder(include_usage), first, chunks)
        return await eager_stream(events, "text/event-stream")

    async def list_models(self, request: Request) -> JSONResponse:
        self._authenticate(request)
        models = self._deps.registry.list_models()
        return JSONResponse(encode.encode_model_list(models, self._deps.created))

    async def get_model(self, request: Request, name: str) -> JSONResponse:
        self._authenticate(request)
        info = self._deps.registry.info(name)
        return JSONResponse(encode.encode_model(info, self._deps.created))


def _event(payload: dict[str, Any]) -> bytes:
    return b"data: " + json_bytes(payload) + b"\n\n"


async def sse_events(
    encoder: encode.ChunkEncoder, first: StreamChunk, rest: AsyncGenerator[StreamChunk, None]
) -> AsyncIterator[bytes]:
    """SSE events ending in [DONE]; a mid-stream failure is one error event, then the end."""
    try:
        for payload in encoder.encode(first):
            yield _event(payload)
        async for chunk in rest:
            for payload in encoder.encode(chunk):
                yield _event(payload)
        yield b"data: [DONE]\n\n"
    except GemgateError as exc:
        yield _event(error_body(exc))
    except Exception as exc:  # a mid-stream failure still ends the stream in-band
        log.exception("stream failed mid-way")
        yield _event(error_body(Internal(f"generation failed: {type(exc).__name__}")))
    finally:
        await rest.aclose()
