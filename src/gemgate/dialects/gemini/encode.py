"""Neutral core types -> Gemini wire JSON (camelCase dicts). Pure functions."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from gemgate.core import types as core

SUPPORTED_METHODS = ["generateContent", "streamGenerateContent", "countTokens"]


@lru_cache(maxsize=256)  # every chunk of a stream carries its response's one createTime
def timestamp(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encode_part(part: core.Part) -> dict[str, Any]:
    out: dict[str, Any]
    if isinstance(part, core.TextPart):
        out = {"text": part.text}
        if part.thought:
            out["thought"] = True
    elif isinstance(part, core.InlineDataPart):
        out = {"inlineData": {"mimeType": part.mime_type, "data": _b64(part.data)}}
    elif isinstance(part, core.FileDataPart):
        out = {"fileData": {"fileUri": part.file_uri, "mimeType": part.mime_type}}
    elif isinstance(part, core.FunctionCallPart):
        out = {"functionCall": {"name": part.name, "args": part.args}}
        if part.id:
            out["functionCall"]["id"] = part.id
    elif isinstance(part, core.FunctionResponsePart):
        out = {"functionResponse": {"name": part.name, "response": part.response}}
        if part.id:
            out["functionResponse"]["id"] = part.id
    elif isinstance(part, core.ExecutableCodePart):
        out = {"executableCode": {"language": part.language, "code": part.code}}
    else:
        out = {"codeExecutionResult": {"outcome": part.outcome, "output": part.output}}
    if part.thought_signature:
        out["thoughtSignature"] = _b64(part.thought_signature)
    return out


def _token(item: core.TokenLogprob) -> dict[str, Any]:
    return {"token": item.token, "tokenId": item.token_id, "logProbability": item.logprob}


def _logprobs(steps: tuple[core.LogprobStep, ...]) -> dict[str, Any]:
    return {
        "topCandidates": [{"candidates": [_token(t) for t in step.top]} for step in steps],
        "chosenCandidates": [_token(step.chosen) for step in steps],
        "logProbabilitySum": sum(step.chosen.logprob for step in steps),
    }


def encode_candidate(candidate: core.Candidate) -> dict[str, Any]:
    # The SDK's chat history keeps a turn only if every chunk has at least one part.
    parts = [encode_part(p) for p in candidate.parts] or [{"text": ""}]
    out: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": candidate.index}
    if candidate.finish_reason is not None:
        out["finishReason"] = candidate.finish_reason.value
    if candidate.logprobs is not None:
        out["logprobsResult"] = _logprobs(candidate.logprobs)
        if candidate.logprobs:
            total = sum(step.chosen.logprob for step in candidate.logprobs)
            out["avgLogprobs"] = total / len(candidate.logprobs)
    return out


def _details(count: int) -> list[dict[str, Any]]:
    return [{"modality": core.Modality.TEXT.value, "tokenCount": count}]


def encode_usage(usage: core.Usage) -> dict[str, Any]:
    out: dict[str, Any] = {
        "promptTokenCount": usage.prompt_tokens,
        "candidatesTokenCount": usage.candidates_tokens,
        "totalTokenCount": usage.total_tokens,
        "promptTokensDetails": _details(usage.prompt_tokens),
    }
    if usage.candidates_tokens:
        out["candidatesTokensDetails"] = _details(usage.candidates_tokens)
    if usage.cached_tokens:
        out["cachedContentTokenCount"] = usage.cached_tokens
        out["cacheTokensDetails"] = _details(usage.cached_tokens)
    if usage.thoughts_tokens:
        out["thoughtsTokenCount"] = usage.thoughts_tokens
    if usage.tool_use_prompt_tokens:
        out["toolUsePromptTokenCount"] = usage.tool_use_prompt_tokens
    return out


def _envelope(
    candidates: tuple[core.Candidate, ...],
    usage: core.Usage | None,
    model_version: str,
    response_id: str,
    create_time: float,
) -> dict[str, Any]:
    out: dict[str, Any] = {"candidates": [encode_candidate(c) for c in candidates]}
    if usage is not None:
        out["usageMetadata"] = encode_usage(usage)
    out["modelVersion"] = model_version
    out["responseId"] = response_id
    out["createTime"] = timestamp(create_time)
    return out


def encode_response(response: core.GenerateResponse) -> dict[str, Any]:
    if response.native is not None:  # a Gemini upstream's answer, passed on as it came
        return response.native
    return _envelope(
        response.candidates,
        response.usage,
        response.model_version,
        response.response_id,
        response.create_time,
    )


def encode_chunk(chunk: core.StreamChunk) -> dict[str, Any]:
    if chunk.native is not None:
        return chunk.native
    return _envelope(
        chunk.candidates, chunk.usage, chunk.model_version, chunk.response_id, chunk.create_time
    )


def encode_count_tokens(total: int) -> dict[str, Any]:
    return {"totalTokens": total, "promptTokensDetails": _details(total)}


def encode_model(info: core.ModelInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": f"models/{info.id}",
        "baseModelId": info.id,
        "version": info.version,
        "displayName": info.display_name,
        "description": info.description,
        "inputTokenLimit": info.input_token_limit,
        "outputTokenLimit": info.output_token_limit,
    }
    if info.supported_methods:  # Google's embedding models carry no sampling fields
        out["supportedGenerationMethods"] = list(info.supported_methods)
        return out
    out |= {
        "supportedGenerationMethods": SUPPORTED_METHODS,
        "temperature": info.temperature,
        "maxTemperature": info.max_temperature,
        "topP": info.top_p,
        "topK": info.top_k,
        "thinking": info.thinking,
    }
    return out


def encode_relayed_model(
    public_id: str,
    upstream_model: str,
    deployments: tuple[str, ...],
    upstream: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A relayed id: the upstream's own description under the public name when it gave one
    (token limits, thinking), else what gemgate knows."""
    names = {"name": f"models/{public_id}", "baseModelId": public_id}
    if upstream is not None:
        return {**upstream, **names}
    return {
        **names,
        "version": upstream_model,
        "displayName": f"{public_id} (relayed)",
        "description": f"Relayed to {upstream_model} on {', '.join(deployments)}.",
        "supportedGenerationMethods": SUPPORTED_METHODS,
    }


def encode_model_list(models: list[dict[str, Any]], next_token: str | None) -> dict[str, Any]:
    """A page of Model resources (local and relayed, already encoded)."""
    out: dict[str, Any] = {"models": models}
    if next_token:
        out["nextPageToken"] = next_token
    return out


def encode_cached_content(cache: core.CachedContent) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": f"cachedContents/{cache.id}",
        "model": f"models/{cache.model}",
        "createTime": timestamp(cache.create_time),
        "updateTime": timestamp(cache.update_time),
        "expireTime": timestamp(cache.expire_time),
        "usageMetadata": {"totalTokenCount": cache.total_tokens},
    }
    if cache.display_name:
        out["displayName"] = cache.display_name
    return out


def encode_cached_content_list(
    caches: list[core.CachedContent], next_token: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {"cachedContents": [encode_cached_content(c) for c in caches]}
    if next_token:
        out["nextPageToken"] = next_token
    return out


def encode_embedding(response: core.EmbedResponse) -> dict[str, Any]:
    """embedContent: the one vector."""
    return {"embedding": {"values": list(response.vectors[0])}}


def encode_batch_embeddings(response: core.EmbedResponse) -> dict[str, Any]:
    """batchEmbedContents: vectors in request order, with the tokens the model read."""
    tokens = response.prompt_tokens
    return {
        "embeddings": [{"values": list(vector)} for vector in response.vectors],
        "usageMetadata": {"promptTokenCount": tokens, "totalTokenCount": tokens},
    }
