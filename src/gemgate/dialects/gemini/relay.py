"""The directions a relay needs: core -> Gemini request JSON, Gemini response JSON -> core.

A request that arrived in Gemini's own dialect carries its JSON body (`native`) and goes
upstream as it came, so parts the core does not model (and the caller's spelling) survive.
Responses are decoded into core for usage and for callers of other dialects, and keep the
upstream's JSON (`native`) for Gemini callers. Pure functions.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import ValidationError

from gemgate.core import types as core
from gemgate.dialects.gemini import schemas as wire
from gemgate.dialects.gemini.decode import decode_part
from gemgate.dialects.gemini.encode import encode_part


def encode_content(content: core.Content) -> dict[str, Any]:
    return {"role": content.role.value, "parts": [encode_part(p) for p in content.parts]}


def _thinking(thinking: core.ThinkingConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if thinking.budget is not None:
        out["thinkingBudget"] = thinking.budget
    if thinking.level is not None:
        out["thinkingLevel"] = thinking.level
    if thinking.include_thoughts:
        out["includeThoughts"] = True
    return out


def encode_generation_config(config: core.GenerationConfig) -> dict[str, Any]:
    values: dict[str, Any] = {
        "temperature": config.temperature,
        "topP": config.top_p,
        "topK": config.top_k,
        "candidateCount": config.candidate_count if config.candidate_count != 1 else None,
        "maxOutputTokens": config.max_output_tokens,
        "stopSequences": list(config.stop_sequences) or None,
        "seed": config.seed,
        "presencePenalty": config.presence_penalty,
        "frequencyPenalty": config.frequency_penalty,
        "responseLogprobs": config.response_logprobs or None,
        "logprobs": config.logprobs,
        "responseMimeType": config.response_mime_type,
        "responseJsonSchema": config.response_json_schema,
        "thinkingConfig": _thinking(config.thinking) if config.thinking else None,
    }
    return {name: value for name, value in values.items() if value is not None}


def encode_generate_request(request: core.GenerateRequest) -> dict[str, Any]:
    """The body for {model}:generateContent (the caller's own JSON when it spoke Gemini)."""
    if request.native is not None:
        return {k: v for k, v in request.native.items() if k != "model"}
    out: dict[str, Any] = {"contents": [encode_content(c) for c in request.contents]}
    if request.system_instruction is not None:
        out["systemInstruction"] = encode_content(request.system_instruction)
    config = encode_generation_config(request.config)
    if config:
        out["generationConfig"] = config
    if request.tools:
        out["tools"] = [_tool(tool) for tool in request.tools]
    if request.tool_config is not None:
        out["toolConfig"] = request.tool_config
    if request.cached_content is not None:
        out["cachedContent"] = request.cached_content
    return out


def _tool(tool: core.Tool) -> dict[str, Any]:
    """A core tool as Gemini's Tool: function declarations are a list, other kinds an object."""
    if tool.kind == "functionDeclarations":
        return {"functionDeclarations": tool.spec["functionDeclarations"]}
    spec = tool.spec["items"] if set(tool.spec) == {"items"} else tool.spec
    return {tool.kind: spec}


def encode_count_tokens_request(
    upstream_model: str, request: core.GenerateRequest
) -> dict[str, Any]:
    """countTokens: bare contents, or the whole generate request when there is more to count."""
    if request.system_instruction is None and not request.tools:
        return {"contents": [encode_content(c) for c in request.contents]}
    inner = encode_generate_request(request)
    inner["model"] = f"models/{upstream_model}"
    return {"generateContentRequest": inner}


def encode_batch_embed_request(upstream_model: str, request: core.EmbedRequest) -> dict[str, Any]:
    """batchEmbedContents, every item naming the upstream's model."""
    name = f"models/{upstream_model}"
    if request.native is not None:
        items = request.native.get("requests", [])
        return {"requests": [{**item, "model": name} for item in items]}
    return {"requests": [_embed_item(name, item) for item in request.inputs]}


def _embed_item(name: str, item: core.EmbedInput) -> dict[str, Any]:
    out: dict[str, Any] = {"model": name, "content": {"parts": [{"text": item.text}]}}
    if item.task_type is not None:
        out["taskType"] = item.task_type
    if item.title is not None:
        out["title"] = item.title
    if item.output_dimensionality is not None:
        out["outputDimensionality"] = item.output_dimensionality
    return out


def decode_batch_embed_response(
    data: dict[str, Any], model_version: str, count: int
) -> core.EmbedResponse:
    vectors = tuple(tuple(e.get("values", ())) for e in data.get("embeddings", ()))
    if len(vectors) != count:
        raise ValueError(f"the upstream answered {len(vectors)} embeddings for {count} inputs")
    tokens = int(data.get("usageMetadata", {}).get("promptTokenCount", 0))
    return core.EmbedResponse(model_version, vectors, tokens)


_FINISH = {reason.value: reason for reason in core.FinishReason}


def _parts(raw: list[dict[str, Any]], where: str) -> tuple[core.Part, ...]:
    """Parts the core models; others (a newer API's kinds) only travel in the native JSON."""
    parts: list[core.Part] = []
    for i, item in enumerate(raw):
        try:
            parts.append(decode_part(wire.Part.model_validate(item), f"{where}.parts[{i}]"))
        except (ValidationError, ValueError):
            continue
    return tuple(parts)


def _candidate(raw: dict[str, Any], position: int) -> core.Candidate:
    content = raw.get("content") or {}
    reason = raw.get("finishReason")
    return core.Candidate(
        index=int(raw.get("index", position)),
        parts=_parts(content.get("parts") or [], f"candidates[{position}].content"),
        finish_reason=_FINISH.get(reason, core.FinishReason.OTHER) if reason else None,
    )


def decode_usage(raw: dict[str, Any]) -> core.Usage:
    return core.Usage(
        prompt_tokens=int(raw.get("promptTokenCount", 0)),
        candidates_tokens=int(raw.get("candidatesTokenCount", 0)),
        cached_tokens=int(raw.get("cachedContentTokenCount", 0)),
        thoughts_tokens=int(raw.get("thoughtsTokenCount", 0)),
        tool_use_prompt_tokens=int(raw.get("toolUsePromptTokenCount", 0)),
    )


def decode_chunk(data: dict[str, Any], model: str) -> core.StreamChunk:
    """One upstream response (or stream chunk); `model` stands in if it names none."""
    usage = data.get("usageMetadata")
    return core.StreamChunk(
        candidates=tuple(_candidate(c, i) for i, c in enumerate(data.get("candidates") or [])),
        model_version=str(data.get("modelVersion") or model),
        response_id=str(data.get("responseId") or ""),
        create_time=time.time(),
        usage=decode_usage(usage) if isinstance(usage, dict) else None,
        native=data,
    )


def decode_response(data: dict[str, Any], model: str) -> core.GenerateResponse:
    chunk = decode_chunk(data, model)
    return core.GenerateResponse(
        chunk.candidates,
        chunk.usage or core.Usage(),
        chunk.model_version,
        chunk.response_id,
        chunk.create_time,
        native=data,
    )


def encode_cache_request(
    model_name: str, draft: core.CacheDraft, ttl_seconds: float
) -> dict[str, Any]:
    """cachedContents.create for an upstream: `model_name` is its full model resource name."""
    out: dict[str, Any] = {
        "model": model_name,
        "contents": [encode_content(c) for c in draft.contents],
        "ttl": f"{ttl_seconds:.3f}s",
    }
    if draft.system_instruction is not None:
        out["systemInstruction"] = encode_content(draft.system_instruction)
    if draft.tools:
        out["tools"] = [_tool(tool) for tool in draft.tools]
    if draft.tool_config is not None:
        out["toolConfig"] = draft.tool_config
    if draft.display_name:
        out["displayName"] = draft.display_name
    return out


def decode_cache(data: dict[str, Any]) -> tuple[str, int]:
    """(the upstream's resource name, the prefix's total tokens) of a CachedContent."""
    usage = data.get("usageMetadata") or {}
    return str(data["name"]), int(usage.get("totalTokenCount", 0))
