"""cachedContents routes: create, get, list, patch (ttl / expireTime), delete."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gemgate.api.auth import authenticate
from gemgate.api.body import read_model
from gemgate.api.paging import page
from gemgate.dialects.gemini import decode, encode
from gemgate.dialects.gemini import schemas as wire
from gemgate.services.caches import CacheService
from gemgate.services.keys import KeyService


def caches_router(caches: CacheService, keys: KeyService, max_request_bytes: int) -> APIRouter:
    router = APIRouter()

    @router.post("/cachedContents")
    async def create(request: Request) -> JSONResponse:
        principal = authenticate(request, keys)
        body = await read_model(request, wire.CachedContent, max_request_bytes)
        cache = await caches.create(principal.project, decode.decode_cache_draft(body))
        return JSONResponse(encode.encode_cached_content(cache))

    @router.get("/cachedContents")
    async def list_caches(request: Request) -> JSONResponse:
        principal = authenticate(request, keys)
        items, next_token = page(
            caches.list(principal.project),
            request.query_params.get("pageSize"),
            request.query_params.get("pageToken"),
        )
        return JSONResponse(encode.encode_cached_content_list(items, next_token))

    @router.get("/cachedContents/{cache_id}")
    async def get(request: Request, cache_id: str) -> JSONResponse:
        principal = authenticate(request, keys)
        return JSONResponse(encode.encode_cached_content(caches.get(principal.project, cache_id)))

    @router.patch("/cachedContents/{cache_id}")
    async def patch(request: Request, cache_id: str) -> JSONResponse:
        principal = authenticate(request, keys)
        body = await read_model(request, wire.CachedContentUpdate, max_request_bytes)
        ttl = decode.decode_duration(body.ttl, "ttl") if body.ttl is not None else None
        expire = (
            decode.decode_timestamp(body.expire_time, "expireTime")
            if body.expire_time is not None
            else None
        )
        cache = await caches.update(principal.project, cache_id, ttl, expire)
        return JSONResponse(encode.encode_cached_content(cache))

    @router.delete("/cachedContents/{cache_id}")
    async def delete(request: Request, cache_id: str) -> JSONResponse:
        principal = authenticate(request, keys)
        await caches.delete(principal.project, cache_id)
        return JSONResponse({})

    return router
