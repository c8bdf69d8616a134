"""Embedding use case: resolve the model, shape each text, embed in one batch, fit dimensions.

`title` is prepended to its text ("title\n\ntext") for RETRIEVAL_DOCUMENT, the one task type
Google accepts it for. Other task types change nothing for a symmetric model like MiniLM.
`outputDimensionality` keeps the first n values and re-normalises them to unit length
(Matryoshka-style truncation, as Google recommends for its own truncated vectors).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from gemgate.core.errors import InvalidArgument
from gemgate.core.ports import EmbedderProvider
from gemgate.core.types import EmbedInput, EmbedRequest, EmbedResponse
from gemgate.services.models import ModelRegistry
from gemgate.services.relaying import Relay


def model_text(item: EmbedInput) -> str:
    """The text the model reads: the title first when it is a retrieval document's."""
    if item.title and item.task_type == "RETRIEVAL_DOCUMENT":
        return f"{item.title}\n\n{item.text}"
    return item.text


def truncate(vector: Sequence[float], dimensions: int | None, field: str) -> tuple[float, ...]:
    """The first `dimensions` values scaled back to unit length (all of them when None)."""
    if dimensions is None or dimensions == len(vector):
        return tuple(vector)
    if dimensions > len(vector):
        raise InvalidArgument(
            f"{field} is {dimensions}, but this model's embeddings have {len(vector)} dimensions.",
            field=field,
        )
    head = vector[:dimensions]
    norm = math.sqrt(math.fsum(value * value for value in head))
    if norm == 0.0:
        return tuple(head)
    return tuple(value / norm for value in head)


class EmbeddingService:
    def __init__(
        self, registry: ModelRegistry, embedders: EmbedderProvider, relay: Relay | None = None
    ) -> None:
        self._registry = registry
        self._embedders = embedders
        self._relay = relay  # model ids in the routing table are relayed upstream

    async def embed(self, request: EmbedRequest) -> EmbedResponse:
        if self._relay is not None and self._relay.serves(request.model):
            return _fitted(request, await self._relay.embed(request))
        model = self._registry.resolve_embedding(request.model)
        embedder = await self._embedders.embedder(model.id)
        output = await embedder.embed([model_text(item) for item in request.inputs])
        vectors = tuple(
            truncate(vector, item.output_dimensionality, item.dimensions_field)
            for vector, item in zip(output.vectors, request.inputs, strict=True)
        )
        return EmbedResponse(model.id, vectors, sum(output.token_counts))


def _fitted(request: EmbedRequest, response: EmbedResponse) -> EmbedResponse:
    """outputDimensionality for upstreams that do not apply it themselves (OpenAI's)."""
    vectors = tuple(
        truncate(vector, item.output_dimensionality, item.dimensions_field)
        for vector, item in zip(response.vectors, request.inputs, strict=True)
    )
    return EmbedResponse(response.model, vectors, response.prompt_tokens)
