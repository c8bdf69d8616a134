"""Reading request bodies: size-capped before they are buffered, JSON parsed into a model."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from gemgate.core.errors import InvalidArgument
from gemgate.dialects.gemini.errors import from_validation_error

M = TypeVar("M", bound=BaseModel)


def _too_large(limit: int) -> InvalidArgument:
    return InvalidArgument(
        f"Request payload size exceeds the limit: {limit} bytes. Upload large media with the "
        "Files API and refer to it with fileData instead of sending it inline.",
        field="body",
    )


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"Invalid JSON payload received. {exc}", field="body") from exc
    if not isinstance(data, dict):
        raise InvalidArgument(
            "Invalid JSON payload received. The request body must be a JSON object.",
            field="body",
        )
    return data


async def read_model(request: Request, model: type[M], limit: int) -> M:
    return (await read_model_and_json(request, model, limit))[0]


async def read_model_and_json(
    request: Request, model: type[M], limit: int
) -> tuple[M, dict[str, Any]]:
    """The validated body and the JSON it came as (relayed unchanged to Gemini upstreams)."""
    data = parse_json(await read_body(request, limit))
    try:
        return model.model_validate(data), data
    except ValidationError as exc:
        raise from_validation_error(exc) from exc
