"""Core responses -> chat.completion / chat.completion.chunk JSON, and model objects. Pure.

Thought text travels as `reasoning_content`; function calls as `tool_calls` whose arguments
are JSON strings and whose Gemini thought signature rides in `extra_content.google`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from gemgate.core import types as core

_FINISH_REASONS = {
    core.FinishReason.STOP: "stop",
    core.FinishReason.MAX_TOKENS: "length",
    core.FinishReason.SAFETY: "content_filter",
    core.FinishReason.OTHER: "stop",
    core.FinishReason.MALFORMED_FUNCTION_CALL: "stop",
}
OWNED_BY = "gemgate"


def completion_id(response_id: str) -> str:
    return f"chatcmpl-{response_id}"


def call_id(response_id: str, candidate: int, call: int) -> str:
    """A stable id for a call the model made without one, so tool messages can answer it."""
    return f"call_{response_id}_{candidate}_{call}"


def finish_reason(reason: core.FinishReason | None, made_calls: bool) -> str | None:
    if reason is None:
        return None
    return "tool_calls" if made_calls else _FINISH_REASONS[reason]


def encode_usage(usage: core.Usage) -> dict[str, Any]:
    """OpenAI counts reasoning inside completion tokens; tool-use prompts inside prompt."""
    return {
        "prompt_tokens": usage.prompt_tokens + usage.tool_use_prompt_tokens,
        "completion_tokens": usage.candidates_tokens + usage.thoughts_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.thoughts_tokens},
    }


def _token(item: core.TokenLogprob) -> dict[str, Any]:
    return {"token": item.token, "logprob": item.logprob, "bytes": list(item.token.encode())}


def encode_logprobs(steps: tuple[core.LogprobStep, ...] | None) -> dict[str, Any] | None:
    if steps is None:
        return None
    content = [
        {**_token(step.chosen), "top_logprobs": [_token(t) for t in step.top]} for step in steps
    ]
    return {"content": content, "refusal": None}


def encode_tool_call(part: core.FunctionCallPart, fallback_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": part.id or fallback_id,
        "type": "function",
        "function": {"name": part.name, "arguments": json.dumps(part.args, ensure_ascii=False)},
    }
    if part.thought_signature:
        signature = base64.b64encode(part.thought_signature).decode("ascii")
        out["extra_content"] = {"google": {"thought_signature": signature}}
    return out


def _texts(parts: tuple[core.Part, ...], thought: bool) -> list[str]:
    return [p.text for p in parts if isinstance(p, core.TextPart) and p.thought == thought]


def _calls(parts: tuple[core.Part, ...]) -> list[core.FunctionCallPart]:
    return [p for p in parts if isinstance(p, core.FunctionCallPart)]


def encode_message(parts: tuple[core.Part, ...], id_prefix: tuple[str, int]) -> dict[str, Any]:
    """The assistant message of one candidate; content is null when it only calls tools."""
    text = "".join(_texts(parts, thought=False))
    thoughts = _texts(parts, thought=True)
    calls = [encode_tool_call(part, call_id(*id_prefix, k)) for k, part in enumerate(_calls(parts))]
    message: dict[str, Any] = {
        "role": "assistant",
        "content": text if text or not calls else None,
        "refusal": None,
    }
    if thoughts:
        message["reasoning_content"] = "".join(thoughts)
    if calls:
        message["tool_calls"] = calls
    return message


def _choice(candidate: core.Candidate, response_id: str) -> dict[str, Any]:
    made_calls = bool(_calls(candidate.parts))
    return {
        "index": candidate.index,
        "message": encode_message(candidate.parts, (response_id, candidate.index)),
        "logprobs": encode_logprobs(candidate.logprobs),
        "finish_reason": finish_reason(candidate.finish_reason, made_calls) or "stop",
    }


def encode_completion(response: core.GenerateResponse) -> dict[str, Any]:
    return {
        "id": completion_id(response.response_id),
        "object": "chat.completion",
        "created": int(response.create_time),
        "model": response.model_version,
        "choices": [_choice(c, response.response_id) for c in response.candidates],
        "usage": encode_usage(response.usage),
    }


class ChunkEncoder:
    """Core stream chunks -> chat.completion.chunk payloads, for one streamed response.

    Remembers, per choice, whether the assistant role went out (it rides on the first delta)
    and how many tool calls were sent (their `index`, and finish_reason `tool_calls`).
    """

    def __init__(self, include_usage: bool) -> None:
        self._include_usage = include_usage
        self._started: set[int] = set()
        self._calls: dict[int, int] = {}

    def encode(self, chunk: core.StreamChunk) -> list[dict[str, Any]]:
        payloads: list[dict[str, Any]] = []
        choices = [self._choice(c, chunk.response_id) for c in chunk.candidates]
        if choices:
            payloads.append(self._envelope(chunk, choices))
        if chunk.usage is not None and self._include_usage:
            payloads.append({**self._envelope(chunk, []), "usage": encode_usage(chunk.usage)})
        return payloads

    def _envelope(self, chunk: core.StreamChunk, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": completion_id(chunk.response_id),
            "object": "chat.completion.chunk",
            "created": int(chunk.create_time),
            "model": chunk.model_version,
            "choices": choices,
        }

    def _choice(self, candidate: core.Candidate, response_id: str) -> dict[str, Any]:
        index = candidate.index
        delta: dict[str, Any] = {}
        calls = self._tool_calls(candidate, response_id)
        text = "".join(_texts(candidate.parts, thought=False))
        if index not in self._started:
            self._started.add(index)
            delta["role"] = "assistant"
            delta["content"] = text if text or not calls else None
        elif text:
            delta["content"] = text
        thoughts = _texts(candidate.parts, thought=True)
        if thoughts:
            delta["reasoning_content"] = "".join(thoughts)
        if calls:
            delta["tool_calls"] = calls
        out: dict[str, Any] = {"index": index, "delta": delta}
        if candidate.logprobs is not None:
            out["logprobs"] = encode_logprobs(candidate.logprobs)
        reason = finish_reason(candidate.finish_reason, bool(self._calls.get(index)))
        out["finish_reason"] = reason
        return out

    def _tool_calls(self, candidate: core.Candidate, response_id: str) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = []
        for part in _calls(candidate.parts):
            position = self._calls.get(candidate.index, 0)
            self._calls[candidate.index] = position + 1
            call = encode_tool_call(part, call_id(response_id, candidate.index, position))
            calls.append({"index": position, **call})
        return calls


def encode_model(info: core.ModelInfo, created: int) -> dict[str, Any]:
    return {"id": info.id, "object": "model", "created": created, "owned_by": OWNED_BY}


def encode_model_list(models: list[core.ModelInfo], created: int) -> dict[str, Any]:
    return {"object": "list", "data": [encode_model(m, created) for m in models]}
