"""Embeddings end to end: google-genai's embed_content (batchEmbedContents) and openai's."""

from __future__ import annotations

import math

import httpx
import pytest
from google import genai
from google.genai import errors, types
from openai import BadRequestError, OpenAI

from tests.serving import RunningServer

pytestmark = pytest.mark.e2e


def _norm(values: list[float]) -> float:
    return math.sqrt(sum(v * v for v in values))


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (_norm(a) * _norm(b))


def _values(result: types.EmbedContentResponse) -> list[list[float]]:
    assert result.embeddings is not None
    return [list(e.values or []) for e in result.embeddings]


def test_single_text_embeds_to_a_unit_vector(gemini: genai.Client) -> None:
    result = gemini.models.embed_content(model="gemini-embedding-001", contents="a cat")
    (vector,) = _values(result)
    assert len(vector) == 384
    assert _norm(vector) == pytest.approx(1.0, abs=1e-4)


def test_batch_truncates_to_64_unit_dimensions(gemini: genai.Client) -> None:
    result = gemini.models.embed_content(
        model="gemini-embedding-001",
        contents=["A cat sleeps.", "A kitten naps.", "The stock market fell."],
        config=types.EmbedContentConfig(output_dimensionality=64, task_type="RETRIEVAL_DOCUMENT"),
    )
    vectors = _values(result)
    assert [len(v) for v in vectors] == [64, 64, 64]
    assert all(_norm(v) == pytest.approx(1.0, abs=1e-4) for v in vectors)


def test_similar_sentences_are_closer_than_unrelated_ones(gemini: genai.Client) -> None:
    cat, kitten, stocks = _values(
        gemini.models.embed_content(
            model="text-embedding-004",
            contents=["A cat sits on the mat.", "A kitten sits on the rug.", "Stocks fell."],
        )
    )
    assert _cos(cat, kitten) > _cos(cat, stocks) + 0.2


def test_usage_reports_the_tokens_read(server: RunningServer) -> None:
    body = {"requests": [{"content": {"parts": [{"text": "a cat"}]}}]}
    reply = httpx.post(
        f"{server.url}/v1beta/models/gemini-embedding-001:batchEmbedContents", json=body
    )
    assert reply.status_code == 200
    assert reply.json()["usageMetadata"]["promptTokenCount"] == 4  # [CLS] a cat [SEP]


def test_chat_model_for_embeddings_is_a_400_naming_it(gemini: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        gemini.models.embed_content(model="gemini-2.5-flash", contents="x")
    assert caught.value.code == 400 and "gemini-2.5-flash" in str(caught.value)


def test_embedding_model_for_generate_content_is_a_400(gemini: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        gemini.models.generate_content(model="gemini-embedding-001", contents="x")
    assert caught.value.code == 400 and "gemini-embedding-001" in str(caught.value)


def test_unknown_embedding_model_is_404(gemini: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        gemini.models.embed_content(model="no-such-embedder", contents="x")
    assert caught.value.code == 404


def test_models_list_offers_the_embedding_methods(gemini: genai.Client) -> None:
    models = {m.name: m for m in gemini.models.list()}
    embedding = models["models/gemini-embedding-001"]
    assert embedding.supported_actions == ["embedContent", "batchEmbedContents"]


def test_openai_default_base64_embeddings(oai: OpenAI) -> None:
    result = oai.embeddings.create(
        model="gemini-embedding-001", input=["A cat sits.", "A kitten sits."], dimensions=64
    )
    assert [d.index for d in result.data] == [0, 1]
    assert all(len(d.embedding) == 64 for d in result.data)
    assert _norm(result.data[0].embedding) == pytest.approx(1.0, abs=1e-4)
    assert result.usage.prompt_tokens == result.usage.total_tokens > 0


def test_openai_float_embeddings_match_base64(oai_v1: OpenAI) -> None:
    as_float = oai_v1.embeddings.create(
        model="text-embedding-004", input="A cat sits.", encoding_format="float"
    )
    as_base64 = oai_v1.embeddings.create(model="text-embedding-004", input="A cat sits.")
    assert len(as_float.data[0].embedding) == 384
    assert as_float.data[0].embedding == pytest.approx(as_base64.data[0].embedding, abs=1e-6)


def test_openai_token_array_input_is_a_400(oai_v1: OpenAI) -> None:
    with pytest.raises(BadRequestError) as caught:
        oai_v1.embeddings.create(model="gemini-embedding-001", input=[[1, 2, 3]])
    assert caught.value.body is not None
