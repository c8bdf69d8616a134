"""EmbeddingCreateParams -> core EmbedRequest, and EmbedResponse -> the embeddings list. Pure.

`encoding_format: "base64"` (the openai SDK's default) is the vector's little-endian float32
bytes, base64-encoded; the SDK decodes it back with numpy or `array`.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

from gemgate.core import types as core
from gemgate.core.errors import InvalidArgument
from gemgate.dialects.openai import schemas as wire


def _texts(value: str | list[str] | list[int] | list[list[int]]) -> list[str]:
    items: list[Any] = [value] if isinstance(value, str) else list(value)
    if not items:
        raise InvalidArgument("'input' must not be empty.", field="input")
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise InvalidArgument(
                "Token-array input is not supported: send 'input' as a string or a list of "
                "strings.",
                field="input",
            )
        if not item:
            field = "input" if isinstance(value, str) else f"input[{index}]"
            raise InvalidArgument(f"'{field}' must not be an empty string.", field=field)
    return items


def decode_embedding_request(body: wire.EmbeddingCreateParams) -> core.EmbedRequest:
    inputs = tuple(
        core.EmbedInput(
            text=text,
            where=f"input[{index}]",
            dimensions_field="dimensions",
            output_dimensionality=body.dimensions,
        )
        for index, text in enumerate(_texts(body.input))
    )
    return core.EmbedRequest(body.model, inputs)


def float32_base64(values: tuple[float, ...]) -> str:
    """Little-endian float32 bytes, base64: what the openai SDK decodes by default."""
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")


def encode_embeddings(
    response: core.EmbedResponse, requested_model: str, encoding_format: str | None
) -> dict[str, Any]:
    as_base64 = encoding_format == "base64"
    data = [
        {
            "object": "embedding",
            "index": index,
            "embedding": float32_base64(vector) if as_base64 else list(vector),
        }
        for index, vector in enumerate(response.vectors)
    ]
    tokens = response.prompt_tokens
    return {
        "object": "list",
        "data": data,
        "model": requested_model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
