"""Neutral contents <-> plain JSON values, for what gemgate stores (caches, answers, batches).

Not a wire format: field names are the core's own. Bytes travel as base64.
"""

from __future__ import annotations

import base64
from typing import Any

from gemgate.core import types as core


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data is not None else None


def _bytes(text: str | None) -> bytes | None:
    return base64.b64decode(text) if text is not None else None


def part_to_json(part: core.Part) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": type(part).__name__}
    for name, value in vars(part).items():
        out[name] = _b64(value) if isinstance(value, bytes) else value
    return out


_PART_TYPES: dict[str, type[core.Part]] = {
    cls.__name__: cls
    for cls in (
        core.TextPart,
        core.InlineDataPart,
        core.FileDataPart,
        core.FunctionCallPart,
        core.FunctionResponsePart,
        core.ExecutableCodePart,
        core.CodeExecutionResultPart,
    )
}
_BYTES_FIELDS = {"data", "thought_signature"}


def part_from_json(value: dict[str, Any]) -> core.Part:
    fields = {k: v for k, v in value.items() if k != "kind"}
    for name in _BYTES_FIELDS & fields.keys():
        fields[name] = _bytes(fields[name])
    return _PART_TYPES[value["kind"]](**fields)


def content_to_json(content: core.Content) -> dict[str, Any]:
    return {"role": content.role.value, "parts": [part_to_json(p) for p in content.parts]}


def content_from_json(value: dict[str, Any]) -> core.Content:
    return core.Content(core.Role(value["role"]), tuple(part_from_json(p) for p in value["parts"]))


def tool_to_json(tool: core.Tool) -> dict[str, Any]:
    return {"kind": tool.kind, "spec": tool.spec}


def tool_from_json(value: dict[str, Any]) -> core.Tool:
    return core.Tool(value["kind"], value["spec"])


def _step_to_json(step: core.LogprobStep) -> dict[str, Any]:
    return {"chosen": vars(step.chosen), "top": [vars(t) for t in step.top]}


def _step_from_json(value: dict[str, Any]) -> core.LogprobStep:
    return core.LogprobStep(
        core.TokenLogprob(**value["chosen"]),
        tuple(core.TokenLogprob(**t) for t in value["top"]),
    )


def _candidate_to_json(candidate: core.Candidate) -> dict[str, Any]:
    logprobs = candidate.logprobs
    return {
        "index": candidate.index,
        "parts": [part_to_json(p) for p in candidate.parts],
        "finish_reason": candidate.finish_reason.value if candidate.finish_reason else None,
        "logprobs": None if logprobs is None else [_step_to_json(s) for s in logprobs],
    }


def _candidate_from_json(value: dict[str, Any]) -> core.Candidate:
    reason, logprobs = value["finish_reason"], value["logprobs"]
    return core.Candidate(
        index=value["index"],
        parts=tuple(part_from_json(p) for p in value["parts"]),
        finish_reason=core.FinishReason(reason) if reason else None,
        logprobs=None if logprobs is None else tuple(_step_from_json(s) for s in logprobs),
    )


def response_to_json(response: core.GenerateResponse) -> dict[str, Any]:
    return {
        "candidates": [_candidate_to_json(c) for c in response.candidates],
        "usage": vars(response.usage),
        "model_version": response.model_version,
        "response_id": response.response_id,
        "create_time": response.create_time,
    }


def response_from_json(value: dict[str, Any]) -> core.GenerateResponse:
    return core.GenerateResponse(
        candidates=tuple(_candidate_from_json(c) for c in value["candidates"]),
        usage=core.Usage(**value["usage"]),
        model_version=value["model_version"],
        response_id=value["response_id"],
        create_time=value["create_time"],
    )
