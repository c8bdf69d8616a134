"""Gemini upstreams: Google AI Studio (API key) and Vertex AI (service-account OAuth).

Both speak the native GenerateContent REST protocol; they differ in the URL of a model's
method and in how a request is authorised. A Gemini caller's body goes upstream as it came
and the upstream's JSON comes back as it went (see dialects/gemini/relay.py).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from gemgate.core import types as core
from gemgate.core.errors import InvalidArgument, UpstreamError
from gemgate.core.ports import UpstreamCache
from gemgate.dialects.gemini import relay as dialect
from gemgate.engines.relay.transport import Transport

AI_STUDIO_URL = "https://generativelanguage.googleapis.com"


@dataclass(frozen=True)
class StudioEndpoint:
    """generativelanguage.googleapis.com/{version}/models/{model}:{method}"""

    base_url: str = AI_STUDIO_URL
    api_version: str = "v1beta"

    def url(self, model: str, method: str) -> str:
        return f"{self.base_url.rstrip('/')}/{self.api_version}/models/{model}:{method}"

    def model_name(self, model: str) -> str:
        return f"models/{model}"

    def resource_url(self, name: str) -> str:
        """A collection (`cachedContents`) or a resource name the upstream gave."""
        return f"{self.base_url.rstrip('/')}/{self.api_version}/{name}"


@dataclass(frozen=True)
class VertexEndpoint:
    """The regional publisher-model endpoint of a Vertex AI project."""

    project: str
    location: str
    base_url: str | None = None

    def _host(self) -> str:
        return (self.base_url or _vertex_host(self.location)).rstrip("/")

    def url(self, model: str, method: str) -> str:
        return f"{self._host()}/v1/{self.model_name(model)}:{method}"

    def model_name(self, model: str) -> str:
        return f"projects/{self.project}/locations/{self.location}/publishers/google/models/{model}"

    def resource_url(self, name: str) -> str:
        """Vertex names resources in full (projects/…/cachedContents/…); a bare collection
        lives under the project's location."""
        if name.startswith("projects/"):
            return f"{self._host()}/v1/{name}"
        return f"{self._host()}/v1/projects/{self.project}/locations/{self.location}/{name}"


def _vertex_host(location: str) -> str:
    if location == "global":
        return "https://aiplatform.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


class GeminiUpstream:
    """core.ports.Upstream over Gemini's REST protocol."""

    def __init__(
        self,
        transport: Transport,
        endpoint: StudioEndpoint | VertexEndpoint,
        token_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._http = transport
        self._endpoint = endpoint
        self._vertex = isinstance(endpoint, VertexEndpoint)
        self._token_client = token_client  # closed with this upstream

    async def generate(self, model: str, request: core.GenerateRequest) -> core.GenerateResponse:
        url = self._endpoint.url(model, "generateContent")
        body = dialect.encode_generate_request(request)
        return await self._http.post_json(url, body, lambda d: dialect.decode_response(d, model))

    async def stream(
        self, model: str, request: core.GenerateRequest
    ) -> AsyncGenerator[core.StreamChunk, None]:
        url = self._endpoint.url(model, "streamGenerateContent") + "?alt=sse"
        body = dialect.encode_generate_request(request)
        async for chunk in self._http.sse(url, body, lambda d: dialect.decode_chunk(d, model)):
            yield chunk

    async def count_tokens(self, model: str, request: core.GenerateRequest) -> int:
        body = dialect.encode_count_tokens_request(model, request)
        if self._vertex and "generateContentRequest" in body:
            # Vertex takes the request's fields at the top level, without a model.
            body = {k: v for k, v in body["generateContentRequest"].items() if k != "model"}
        url = self._endpoint.url(model, "countTokens")
        return await self._http.post_json(url, body, lambda d: int(d.get("totalTokens", 0)))

    async def embed(self, model: str, request: core.EmbedRequest) -> core.EmbedResponse:
        if self._vertex:
            return await self._embed_vertex(model, request)
        url = self._endpoint.url(model, "batchEmbedContents")
        body = dialect.encode_batch_embed_request(model, request)
        count = len(request.inputs)
        return await self._http.post_json(
            url, body, lambda d: dialect.decode_batch_embed_response(d, model, count)
        )

    async def _embed_vertex(self, model: str, request: core.EmbedRequest) -> core.EmbedResponse:
        """Vertex embeds with :predict, one instance per text."""
        instances: list[dict[str, Any]] = []
        for item in request.inputs:
            instance: dict[str, Any] = {"content": item.text}
            if item.task_type is not None:
                instance["task_type"] = item.task_type
            if item.title is not None:
                instance["title"] = item.title
            instances.append(instance)
        body: dict[str, Any] = {"instances": instances}
        dims = {item.output_dimensionality for item in request.inputs}
        if len(dims) == 1 and None not in dims:
            body["parameters"] = {"outputDimensionality": dims.pop()}
        url = self._endpoint.url(model, "predict")
        return await self._http.post_json(
            url, body, lambda d: _predictions(d, model, len(instances))
        )

    async def create_cache(
        self, model: str, draft: core.CacheDraft, ttl_seconds: float
    ) -> UpstreamCache:
        body = dialect.encode_cache_request(self._endpoint.model_name(model), draft, ttl_seconds)
        url = self._endpoint.resource_url("cachedContents")
        name, total = await self._http.post_json(url, body, dialect.decode_cache)
        return UpstreamCache(name, total)

    async def update_cache(self, name: str, ttl_seconds: float) -> None:
        url = self._endpoint.resource_url(name) + "?updateMask=ttl"
        await self._http.send_json("PATCH", url, {"ttl": f"{ttl_seconds:.3f}s"}, _ignore)

    async def delete_cache(self, name: str) -> None:
        await self._http.send_json("DELETE", self._endpoint.resource_url(name), None, _ignore)

    async def describe(self, model: str) -> dict[str, Any] | None:
        """AI Studio's models.get (token limits, thinking, methods); Vertex's publisher models
        speak another shape, so they describe nothing."""
        if not isinstance(self._endpoint, StudioEndpoint):
            return None
        url = self._endpoint.resource_url(f"models/{model}")
        return await self._http.send_json("GET", url, None, dict)

    async def upload_file(self, file: core.StoredFile, chunks: AsyncIterator[bytes]) -> str:
        """Google's resumable upload in one shot: start, then upload-and-finalize."""
        if not isinstance(self._endpoint, StudioEndpoint):
            raise InvalidArgument(
                "Vertex AI has no Files API: a gemgate file cannot be sent to a Vertex "
                "deployment; give a gs:// URI in fileData instead.",
                field="contents",
            )
        endpoint = self._endpoint
        start = f"{endpoint.base_url.rstrip('/')}/upload/{endpoint.api_version}/files"
        reply, _ = await self._http.exchange(
            start,
            {
                "X-Goog-Upload-Protocol": "resumable",
                "X-Goog-Upload-Command": "start",
                "X-Goog-Upload-Header-Content-Length": str(file.size_bytes),
                "X-Goog-Upload-Header-Content-Type": file.mime_type,
            },
            json_body={"file": {"displayName": file.display_name or file.id}},
        )
        session = reply.get("x-goog-upload-url")
        if not session:
            raise UpstreamError("The upstream's upload start gave no upload URL.", status=502)
        headers = {"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0"}
        headers["Content-Length"] = str(file.size_bytes)
        _, body = await self._http.exchange(session, headers, data=chunks)
        uri = (body.get("file") or {}).get("uri")
        if not isinstance(uri, str):
            raise UpstreamError("The upstream's finished upload named no file uri.", status=502)
        return uri

    async def aclose(self) -> None:
        await self._http.aclose()
        if self._token_client is not None:
            await self._token_client.aclose()


def _ignore(data: dict[str, Any]) -> None:
    return None


def _predictions(data: dict[str, Any], model: str, count: int) -> core.EmbedResponse:
    predictions = data.get("predictions") or []
    vectors = tuple(tuple(p["embeddings"]["values"]) for p in predictions)
    tokens = sum(
        int(p["embeddings"].get("statistics", {}).get("token_count", 0)) for p in predictions
    )
    if len(vectors) != count:
        raise ValueError(f"Vertex answered {len(vectors)} embeddings for {count} inputs")
    return core.EmbedResponse(model, vectors, tokens)
