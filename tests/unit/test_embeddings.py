"""Embeddings: dimension truncation, titles, wire shapes of both dialects, model resolution."""

from __future__ import annotations

import asyncio
import base64
import math
import struct
from concurrent.futures import ThreadPoolExecutor

import pytest

from gemgate.core.errors import InvalidArgument, NotFound
from gemgate.core.ports import EmbeddingOutput
from gemgate.core.types import EmbedInput, EmbedRequest, EmbedResponse
from gemgate.dialects.gemini import decode, encode
from gemgate.dialects.gemini import schemas as wire
from gemgate.dialects.openai import embeddings as openai_embeddings
from gemgate.dialects.openai import schemas as openai_wire
from gemgate.engines.embeddings.batching import MicroBatcher
from gemgate.services.embeddings import EmbeddingService, model_text, truncate
from gemgate.services.models import EmbeddingModel, LocalModel, ModelRegistry


def registry() -> ModelRegistry:
    return ModelRegistry(
        [LocalModel("chat", "Chat", "", 4096, 1024)],
        {"gemini-2.5-flash": "default"},
        "chat",
        embedding_models=[EmbeddingModel("minilm", "MiniLM", "", 256)],
        embedding_aliases={"gemini-embedding-001": "minilm"},
    )


def test_truncation_keeps_the_first_values_at_unit_length() -> None:
    values = truncate([3.0, 4.0, 12.0], 2, "outputDimensionality")
    assert values == pytest.approx((0.6, 0.8))
    assert math.hypot(*values) == pytest.approx(1.0)


def test_full_dimensionality_is_returned_unchanged() -> None:
    assert truncate([0.6, 0.8], None, "f") == (0.6, 0.8)
    assert truncate([0.6, 0.8], 2, "f") == (0.6, 0.8)


def test_more_dimensions_than_the_model_has_is_refused_by_field() -> None:
    with pytest.raises(InvalidArgument) as caught:
        truncate([1.0, 0.0], 3, "requests[1].outputDimensionality")
    assert caught.value.field == "requests[1].outputDimensionality"


def test_title_is_prepended_only_for_retrieval_documents() -> None:
    doc = EmbedInput("body", "", "f", task_type="RETRIEVAL_DOCUMENT", title="Title")
    query = EmbedInput("body", "", "f", task_type="RETRIEVAL_QUERY")
    assert model_text(doc) == "Title\n\nbody"
    assert model_text(query) == "body"


def test_base64_is_little_endian_float32() -> None:
    encoded = openai_embeddings.float32_base64((1.0, -0.5))
    assert base64.b64decode(encoded) == struct.pack("<2f", 1.0, -0.5)
    assert encoded == "AACAPwAAAL8="


def _batch(body: dict[str, object]) -> EmbedRequest:
    parsed = wire.BatchEmbedContentsRequest.model_validate(body)
    return decode.decode_batch_embed_request("models/gemini-embedding-001", parsed)


def test_batch_request_decodes_every_item_in_order() -> None:
    request = _batch(
        {
            "requests": [
                {
                    "content": {"parts": [{"text": "a"}, {"text": "b"}], "role": "user"},
                    "taskType": "RETRIEVAL_DOCUMENT",
                    "title": "t",
                    "outputDimensionality": 8,
                    "model": "models/gemini-embedding-001",
                },
                {"content": {"parts": [{"text": "c"}]}},
            ]
        }
    )
    first, second = request.inputs
    assert (first.text, first.title, first.output_dimensionality) == ("a\nb", "t", 8)
    assert first.dimensions_field == "requests[0].outputDimensionality"
    assert (second.text, second.task_type) == ("c", None)


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"content": {"parts": []}}, "requests[0].content.parts"),
        (
            {"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": ""}}]}},
            "requests[0].content.parts[0]",
        ),
        ({"content": {"parts": [{"text": "a"}]}, "taskType": "NOPE"}, "requests[0].taskType"),
        ({"content": {"parts": [{"text": "a"}]}, "title": "t"}, "requests[0].title"),
        (
            {"content": {"parts": [{"text": "a"}]}, "outputDimensionality": 0},
            "requests[0].outputDimensionality",
        ),
        ({"content": {"parts": [{"text": "a"}]}, "model": "models/other"}, "requests[0].model"),
    ],
)
def test_bad_batch_items_are_refused_by_field(item: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        _batch({"requests": [item]})
    assert caught.value.field == field


def test_gemini_embedding_shapes() -> None:
    response = EmbedResponse("minilm", ((0.6, 0.8), (1.0, 0.0)), prompt_tokens=7)
    assert encode.encode_batch_embeddings(response) == {
        "embeddings": [{"values": [0.6, 0.8]}, {"values": [1.0, 0.0]}],
        "usageMetadata": {"promptTokenCount": 7, "totalTokenCount": 7},
    }
    assert encode.encode_embedding(response) == {"embedding": {"values": [0.6, 0.8]}}


def test_openai_embedding_shape_float_and_base64() -> None:
    response = EmbedResponse("minilm", ((1.0, -0.5),), prompt_tokens=3)
    usage = {"prompt_tokens": 3, "total_tokens": 3}
    assert openai_embeddings.encode_embeddings(response, "text-embedding-004", "float") == {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [1.0, -0.5]}],
        "model": "text-embedding-004",
        "usage": usage,
    }
    as_b64 = openai_embeddings.encode_embeddings(response, "m", "base64")
    assert as_b64["data"][0]["embedding"] == "AACAPwAAAL8="


@pytest.mark.parametrize(
    ("value", "field"),
    [([1, 2, 3], "input"), ([[1], [2]], "input"), ([], "input"), (["a", ""], "input[1]")],
)
def test_openai_token_arrays_and_empty_inputs_are_refused(value: object, field: str) -> None:
    body = openai_wire.EmbeddingCreateParams.model_validate({"model": "m", "input": value})
    with pytest.raises(InvalidArgument) as caught:
        openai_embeddings.decode_embedding_request(body)
    assert caught.value.field == field


def test_openai_request_decodes_strings_and_dimensions() -> None:
    body = openai_wire.EmbeddingCreateParams.model_validate(
        {"model": "m", "input": ["a", "b"], "dimensions": 8, "encoding_format": "base64"}
    )
    request = openai_embeddings.decode_embedding_request(body)
    assert [i.text for i in request.inputs] == ["a", "b"]
    assert {i.output_dimensionality for i in request.inputs} == {8}


def test_registry_resolves_embedding_aliases_and_refuses_chat_models() -> None:
    models = registry()
    assert models.resolve_embedding("models/gemini-embedding-001").id == "minilm"
    with pytest.raises(InvalidArgument, match=r"gemini-2\.5-flash"):
        models.resolve_embedding("gemini-2.5-flash")
    with pytest.raises(NotFound):
        models.resolve_embedding("nope")


def test_embedding_model_for_generate_content_is_a_400_naming_it() -> None:
    with pytest.raises(InvalidArgument, match="gemini-embedding-001"):
        registry().resolve("models/gemini-embedding-001")


def test_models_list_includes_embedding_models_with_their_methods() -> None:
    models = {m.id: m for m in registry().list_models()}
    assert models["gemini-embedding-001"].supported_methods == (
        "embedContent",
        "batchEmbedContents",
    )
    described = encode.encode_model(registry().info("gemini-embedding-001"))
    assert described["supportedGenerationMethods"] == ["embedContent", "batchEmbedContents"]


class _FakeEmbedder:
    async def embed(self, texts: list[str]) -> EmbeddingOutput:
        return EmbeddingOutput([[3.0, 4.0, 0.0] for _ in texts], [len(t) for t in texts])


class _FakeProvider:
    async def embedder(self, model_id: str) -> _FakeEmbedder:
        return _FakeEmbedder()


async def test_service_truncates_each_input_and_sums_tokens() -> None:
    service = EmbeddingService(registry(), _FakeProvider())
    inputs = (EmbedInput("ab", "", "f", output_dimensionality=2), EmbedInput("cde", "", "f"))
    response = await service.embed(EmbedRequest("gemini-embedding-001", inputs))
    assert response.model == "minilm" and response.prompt_tokens == 5
    assert response.vectors[0] == pytest.approx((0.6, 0.8))
    assert response.vectors[1] == (3.0, 4.0, 0.0)


async def _run_batched(max_batch: int) -> tuple[list[list[str]], list[EmbeddingOutput]]:
    calls: list[list[str]] = []

    def encode_batch(texts: list[str]) -> EmbeddingOutput:
        calls.append(texts)
        return EmbeddingOutput([[float(len(t))] for t in texts], [1] * len(texts))

    with ThreadPoolExecutor(max_workers=1) as executor:
        batcher = MicroBatcher(encode_batch, executor, max_batch=max_batch)
        outputs = await asyncio.gather(
            batcher.embed(["a"]), batcher.embed(["bb", "ccc"]), batcher.embed(["dddd"])
        )
    return calls, list(outputs)


async def test_concurrent_calls_are_joined_into_one_batch() -> None:
    calls, outputs = await _run_batched(max_batch=8)
    assert calls == [["a", "bb", "ccc", "dddd"]]
    assert [o.vectors for o in outputs] == [[[1.0]], [[2.0], [3.0]], [[4.0]]]


async def test_batches_never_split_a_call_or_exceed_max_batch() -> None:
    calls, outputs = await _run_batched(max_batch=2)
    assert calls == [["a"], ["bb", "ccc"], ["dddd"]]
    assert [o.vectors for o in outputs] == [[[1.0]], [[2.0], [3.0]], [[4.0]]]
