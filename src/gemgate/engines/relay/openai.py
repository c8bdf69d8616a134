"""OpenAI-compatible upstreams: vLLM, SGLang, llama.cpp's server, Ollama, OpenAI itself.

This is how a cluster of GPU inference servers sits behind gemgate: requests are translated
Gemini -> chat/completions and back with dialects/openai/relay.py.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from gemgate.core import types as core
from gemgate.core.errors import InvalidArgument
from gemgate.core.ports import UpstreamCache
from gemgate.dialects.openai import relay as dialect
from gemgate.engines.relay.transport import Transport


class OpenAIUpstream:
    """core.ports.Upstream over /chat/completions and /embeddings under `base_url` (…/v1)."""

    def __init__(self, transport: Transport, base_url: str) -> None:
        self._http = transport
        self._base = base_url.rstrip("/")

    async def generate(self, model: str, request: core.GenerateRequest) -> core.GenerateResponse:
        body = dialect.encode_chat_request(model, request, stream=False)
        url = f"{self._base}/chat/completions"
        return await self._http.post_json(url, body, lambda d: dialect.decode_completion(d, model))

    async def stream(
        self, model: str, request: core.GenerateRequest
    ) -> AsyncGenerator[core.StreamChunk, None]:
        body = dialect.encode_chat_request(model, request, stream=True)
        decoder = dialect.ChunkDecoder(model)
        async for chunk in self._http.sse(f"{self._base}/chat/completions", body, decoder.decode):
            if chunk is not None:
                yield chunk

    async def count_tokens(self, model: str, request: core.GenerateRequest) -> int:
        raise InvalidArgument(
            f"countTokens is not available for models/{request.model}: it is served by an "
            "OpenAI-compatible upstream, whose protocol has no token-counting method.",
            field="model",
        )

    async def embed(self, model: str, request: core.EmbedRequest) -> core.EmbedResponse:
        texts = [_model_text(item) for item in request.inputs]
        body = dialect.encode_embeddings_request(model, texts)
        count = len(texts)
        return await self._http.post_json(
            f"{self._base}/embeddings", body, lambda d: dialect.decode_embeddings(d, model, count)
        )

    async def create_cache(
        self, model: str, draft: core.CacheDraft, ttl_seconds: float
    ) -> UpstreamCache:
        raise InvalidArgument(
            f"models/{draft.model} is served by an OpenAI-compatible upstream, which has no "
            "explicit caches (cachedContents).",
            field="model",
        )

    async def update_cache(self, name: str, ttl_seconds: float) -> None:
        raise InvalidArgument("An OpenAI-compatible upstream has no caches.", field="name")

    async def delete_cache(self, name: str) -> None:
        raise InvalidArgument("An OpenAI-compatible upstream has no caches.", field="name")

    async def describe(self, model: str) -> dict[str, Any] | None:
        return None  # OpenAI's model objects carry no limits or methods

    async def upload_file(self, file: core.StoredFile, chunks: AsyncIterator[bytes]) -> str:
        raise InvalidArgument(
            f"files/{file.id} cannot be sent to an OpenAI-compatible upstream (no Files API).",
            field="contents",
        )

    async def aclose(self) -> None:
        await self._http.aclose()


def _model_text(item: core.EmbedInput) -> str:
    """A retrieval document's title goes first, as the local embedding path reads it."""
    if item.title and item.task_type == "RETRIEVAL_DOCUMENT":
        return f"{item.title}\n\n{item.text}"
    return item.text
