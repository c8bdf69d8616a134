"""Where a key arrives: x-goog-api-key, ?key=, or Authorization: Bearer."""

from __future__ import annotations

from fastapi import Request

from gemgate.services.keys import KeyService, Principal


def presented_key(request: Request) -> str | None:
    header = request.headers.get("x-goog-api-key")
    if header:
        return header.strip()
    query = request.query_params.get("key")
    if query:
        return query.strip()
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def authenticate(request: Request, keys: KeyService) -> Principal:
    return keys.authenticate(presented_key(request))
