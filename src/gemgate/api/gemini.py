"""Native Gemini routes: models, generateContent, streamGenerateContent, countTokens.

Mounted by the app under /gemini and at the root, for v1, v1beta, v1alpha and no version.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.routing import Route

from gemgate.api.auth import authenticate
from gemgate.api.body import read_model, read_model_and_json
from gemgate.api.embeddings import GeminiEmbeddingHandlers
from gemgate.api.framing import json_array_stream, sse_stream
from gemgate.api.paging import page
from gemgate.api.streaming import eager_stream
from gemgate.core.errors import InvalidArgument, NotFound
from gemgate.core.types import GenerateRequest, StreamChunk, Usage
from gemgate.dialects.gemini import decode, encode
from gemgate.dialects.gemini import schemas as wire
from gemgate.services.accounting import Accountant, Meter
from gemgate.services.embeddings import EmbeddingService
from gemgate.services.generation import GenerationService
from gemgate.services.keys import KeyService
from gemgate.services.models import ModelRegistry
from gemgate.services.relaying import Relay


@dataclass(frozen=True)
class GeminiDeps:
    registry: ModelRegistry
    generation: GenerationService
    keys: KeyService
    max_request_bytes: int
    accountant: Accountant
    embeddings: EmbeddingService | None = None
    relay: Relay | None = None


Handler = Callable[[Request, str, Meter], Awaitable[Response]]


def gemini_router(deps: GeminiDeps) -> APIRouter:
    router = APIRouter()

    @router.get("/models")
    async def list_models(request: Request) -> JSONResponse:
        authenticate(request, deps.keys)
        models, next_token = page(
            _model_entries(deps),
            request.query_params.get("pageSize"),
            request.query_params.get("pageToken"),
        )
        return JSONResponse(encode.encode_model_list(models, next_token))

    @router.get("/models/{name}")
    async def get_model(request: Request, name: str) -> JSONResponse:
        authenticate(request, deps.keys)
        if deps.relay is not None and deps.relay.serves(name):
            relayed, described = await deps.relay.describe(name)
            return JSONResponse(
                encode.encode_relayed_model(
                    relayed.id, relayed.upstream_model, relayed.deployments, described
                )
            )
        return JSONResponse(encode.encode_model(deps.registry.info(name)))

    return router


def model_action_route(deps: GeminiDeps, prefixes: Iterable[str]) -> Route:
    """POST models/{model}:{action} (generateContent, streamGenerateContent, countTokens,
    embeddings) under every one of `prefixes`, as one plain Starlette route matched by one
    regular expression.

    It goes first in the app's routes. Through FastAPI the hottest route was found after
    trying dozens of routes of eight included routers, and called through FastAPI's
    dependency machinery: ~0.2 ms back to back, but 9 ms after a second of idleness on this
    VM, where every memory page a request touches first costs microseconds (docs/performance.md).
    """
    # Longest first: "/v1beta" is tried before "/v1" instead of after backtracking.
    alternatives = "|".join(re.escape(p) for p in sorted(set(prefixes), key=len, reverse=True))
    path = re.compile(f"^(?:{alternatives})/models/(?P<name>[^/]+)$")
    handlers = _Handlers(deps)
    actions: dict[str, Handler] = {
        "generateContent": handlers.generate,
        "streamGenerateContent": handlers.stream,
        "countTokens": handlers.count_tokens,
    }
    if deps.embeddings is not None:
        embedding = GeminiEmbeddingHandlers(deps.embeddings, deps.max_request_bytes)
        actions["embedContent"] = embedding.embed_content
        actions["batchEmbedContents"] = embedding.batch_embed_contents

    async def model_action(request: Request) -> Response:
        principal = authenticate(request, deps.keys)
        name = request.path_params["name"]
        model, _, action = name.rpartition(":")
        handler = actions.get(action)
        if not model or handler is None:
            raise NotFound(f"Method models/{name} is not found.", field="method")
        async with deps.accountant.metered(principal, action, model) as meter:
            return await handler(request, model, meter)

    route = Route("/models/{name}", model_action, methods=["POST"])
    route.path_regex = path
    return route


def _model_entries(deps: GeminiDeps) -> list[dict[str, Any]]:
    """Local models and aliases, then relayed ids (a relayed id hides a local alias of it)."""
    relayed = deps.relay.models() if deps.relay is not None else []
    taken = {r.id for r in relayed}
    local = [encode.encode_model(m) for m in deps.registry.list_models() if m.id not in taken]
    return local + [
        encode.encode_relayed_model(r.id, r.upstream_model, r.deployments) for r in relayed
    ]


class _Handlers:
    def __init__(self, deps: GeminiDeps) -> None:
        self._deps = deps

    async def _request(self, request: Request, model: str, meter: Meter) -> GenerateRequest:
        limit = self._deps.max_request_bytes
        body, data = await read_model_and_json(request, wire.GenerateContentRequest, limit)
        core_request = replace(decode.decode_generate_request(model, body), native=data)
        await meter.reserve(
            lambda: self._deps.generation.prompt_tokens(core_request, meter.project)
        )
        return core_request

    async def generate(self, request: Request, model: str, meter: Meter) -> Response:
        core_request = await self._request(request, model, meter)
        response = await self._deps.generation.generate(core_request, meter.project)
        await meter.done(response.usage, response.model_version, response.deployment)
        return JSONResponse(encode.encode_response(response))

    async def stream(self, request: Request, model: str, meter: Meter) -> Response:
        core_request = await self._request(request, model, meter)
        chunks = meter.watch(self._deps.generation.stream(core_request, meter.project))
        # Failures before the first chunk (unknown model, context overflow) are plain HTTP
        # errors; only later ones travel in-band.
        first = await anext(chunks)
        payloads = _payloads(first, chunks)
        if request.query_params.get("alt") == "sse":
            return await eager_stream(sse_stream(payloads), "text/event-stream")
        return await eager_stream(json_array_stream(payloads), "application/json")

    async def count_tokens(self, request: Request, model: str, meter: Meter) -> Response:
        body = await read_model(request, wire.CountTokensRequest, self._deps.max_request_bytes)
        if body.generate_content_request is not None:
            inner = decode.decode_generate_request(model, body.generate_content_request)
            contents, system = inner.contents, inner.system_instruction
        elif body.contents is not None:
            contents, system = decode.decode_contents(body.contents), None
        else:
            raise InvalidArgument(
                "countTokens needs contents or generateContentRequest.", field="contents"
            )
        total = await self._deps.generation.count_tokens(model, contents, system, meter.project)
        # Counting is free and spends no tokens (as at Google); the call is still a request.
        generation = self._deps.generation
        served = model if generation.relays(model) else self._deps.registry.resolve(model).local.id
        await meter.done(Usage(), served)
        return JSONResponse(encode.encode_count_tokens(total))


async def _payloads(
    first: StreamChunk, rest: AsyncGenerator[StreamChunk, None]
) -> AsyncIterator[dict[str, Any]]:
    try:
        yield encode.encode_chunk(first)
        async for chunk in rest:
            yield encode.encode_chunk(chunk)
    finally:
        await rest.aclose()
