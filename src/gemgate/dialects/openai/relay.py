"""The directions a relay to an OpenAI-compatible server needs (vLLM, SGLang, llama.cpp's
server, Ollama, OpenAI): core request -> chat/completions JSON, and its answers -> core.

The reverse of decode.py/encode.py: a function call becomes an assistant `tool_calls` entry
(arguments as a JSON string), a function response a `tool` message, thoughts are not sent
back (OpenAI has no place for them), and `reasoning_content` deltas come back as thoughts.
Pure functions and one small streaming state machine.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

from gemgate.core import types as core
from gemgate.core.errors import InvalidArgument

_FINISH = {
    "stop": core.FinishReason.STOP,
    "length": core.FinishReason.MAX_TOKENS,
    "tool_calls": core.FinishReason.STOP,
    "function_call": core.FinishReason.STOP,
    "content_filter": core.FinishReason.SAFETY,
}


def _content_parts(parts: tuple[core.Part, ...], where: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, part in enumerate(parts):
        if isinstance(part, core.TextPart) and not part.thought:
            out.append({"type": "text", "text": part.text})
        elif isinstance(part, core.InlineDataPart) and part.mime_type.startswith("image/"):
            data = base64.b64encode(part.data).decode("ascii")
            url = f"data:{part.mime_type};base64,{data}"
            out.append({"type": "image_url", "image_url": {"url": url}})
        elif not isinstance(part, core.TextPart):
            raise InvalidArgument(
                f"{where}.parts[{i}]: a {type(part).__name__} cannot be sent to an "
                "OpenAI-compatible upstream.",
                field=f"{where}.parts[{i}]",
            )
    return out


def _plain(parts: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    """Text-only content as one string: every OpenAI-compatible server takes that form."""
    if all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def _tool_content(response: dict[str, Any]) -> str:
    value = response["result"] if set(response) == {"result"} else response
    return value if isinstance(value, str) else json.dumps(value)


def _call_id(part: core.FunctionCallPart | core.FunctionResponsePart, turn: int, i: int) -> str:
    return part.id or f"call_{turn}_{i}"


def _model_message(content: core.Content, turn: int) -> dict[str, Any]:
    calls = [p for p in content.parts if isinstance(p, core.FunctionCallPart)]
    rest = tuple(p for p in content.parts if not isinstance(p, core.FunctionCallPart))
    message: dict[str, Any] = {
        "role": "assistant",
        "content": _plain(_content_parts(rest, f"contents[{turn}]")) or None,
    }
    if calls:
        message["tool_calls"] = [
            {
                "id": _call_id(call, turn, i),
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.args)},
            }
            for i, call in enumerate(calls)
        ]
    return message


def _user_messages(content: core.Content, turn: int) -> list[dict[str, Any]]:
    """Function responses become tool messages (answering the previous turn's calls in
    order when they carry no id); the rest one user message."""
    out: list[dict[str, Any]] = []
    responses = [p for p in content.parts if isinstance(p, core.FunctionResponsePart)]
    for i, response in enumerate(responses):
        call_id = _call_id(response, turn - 1, i)
        out.append(
            {"role": "tool", "tool_call_id": call_id, "content": _tool_content(response.response)}
        )
    rest = tuple(p for p in content.parts if not isinstance(p, core.FunctionResponsePart))
    if rest:
        parts = _content_parts(rest, f"contents[{turn}]")
        out.append({"role": "user", "content": _plain(parts)})
    return out


def encode_messages(request: core.GenerateRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if request.system_instruction is not None:
        parts = _content_parts(request.system_instruction.parts, "systemInstruction")
        messages.append({"role": "system", "content": _plain(parts)})
    for turn, content in enumerate(request.contents):
        if content.role is core.Role.MODEL:
            messages.append(_model_message(content, turn))
        else:
            messages.extend(_user_messages(content, turn))
    return messages


def _tools(tools: tuple[core.Tool, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, tool in enumerate(tools):
        if tool.kind != "functionDeclarations":
            raise InvalidArgument(
                f"tools[{i}]: {tool.kind} is a Gemini built-in tool; an OpenAI-compatible "
                "upstream has no such tool.",
                field=f"tools[{i}].{tool.kind}",
            )
        for declaration in tool.spec["functionDeclarations"]:
            function: dict[str, Any] = {
                "name": declaration["name"],
                "description": declaration.get("description", ""),
            }
            if declaration.get("parametersJsonSchema") is not None:
                function["parameters"] = declaration["parametersJsonSchema"]
            out.append({"type": "function", "function": function})
    return out


def _tool_choice(tool_config: dict[str, Any] | None) -> Any:
    config = (tool_config or {}).get("functionCallingConfig") or {}
    mode = str(config.get("mode", "AUTO")).upper()
    allowed = config.get("allowedFunctionNames") or []
    if mode == "NONE":
        return "none"
    if mode in ("ANY", "VALIDATED") and len(allowed) == 1:
        return {"type": "function", "function": {"name": allowed[0]}}
    return "required" if mode == "ANY" else None


def _response_format(config: core.GenerationConfig) -> dict[str, Any] | None:
    if config.response_mime_type != "application/json":
        return None
    if config.response_json_schema is None:
        return {"type": "json_object"}
    schema = {"name": "response", "schema": config.response_json_schema}
    return {"type": "json_schema", "json_schema": schema}


def _sampling(config: core.GenerationConfig) -> dict[str, Any]:
    return {
        "temperature": config.temperature,
        "top_p": config.top_p,
        "top_k": config.top_k,  # not OpenAI's, but vLLM, SGLang and llama.cpp read it
        "n": config.candidate_count if config.candidate_count != 1 else None,
        "max_tokens": config.max_output_tokens,
        "stop": list(config.stop_sequences) or None,
        "seed": config.seed,
        "presence_penalty": config.presence_penalty,
        "frequency_penalty": config.frequency_penalty,
        "logprobs": config.response_logprobs or None,
        "top_logprobs": config.logprobs or None,
        "response_format": _response_format(config),
    }


def encode_chat_request(
    upstream_model: str, request: core.GenerateRequest, stream: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": upstream_model, "messages": encode_messages(request)}
    body |= {k: v for k, v in _sampling(request.config).items() if v is not None}
    if request.tools:
        body["tools"] = _tools(request.tools)
        choice = _tool_choice(request.tool_config)
        if choice is not None:
            body["tool_choice"] = choice
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def decode_usage(raw: dict[str, Any]) -> core.Usage:
    """OpenAI counts reasoning inside completion tokens; Gemini counts thoughts apart."""
    details = raw.get("completion_tokens_details") or {}
    reasoning = int(details.get("reasoning_tokens") or 0)
    cached = int((raw.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    return core.Usage(
        prompt_tokens=int(raw.get("prompt_tokens") or 0),
        candidates_tokens=int(raw.get("completion_tokens") or 0) - reasoning,
        cached_tokens=cached,
        thoughts_tokens=reasoning,
    )


def _calls(raw: list[dict[str, Any]], where: str) -> list[core.Part]:
    parts: list[core.Part] = []
    for i, call in enumerate(raw):
        function = call.get("function") or {}
        try:
            args = json.loads(function.get("arguments") or "{}")
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}.tool_calls[{i}].arguments is not JSON: {exc}") from exc
        parts.append(core.FunctionCallPart(function.get("name", ""), args, call.get("id")))
    return parts


def _finish(reason: str | None) -> core.FinishReason | None:
    return None if reason is None else _FINISH.get(reason, core.FinishReason.OTHER)


def decode_completion(data: dict[str, Any], model: str) -> core.GenerateResponse:
    candidates: list[core.Candidate] = []
    for choice in data.get("choices") or []:
        message = choice.get("message") or {}
        parts: list[core.Part] = []
        if message.get("reasoning_content"):
            parts.append(core.TextPart(message["reasoning_content"], thought=True))
        if message.get("content"):
            parts.append(core.TextPart(message["content"]))
        parts += _calls(message.get("tool_calls") or [], "message")
        index = int(choice.get("index", len(candidates)))
        reason = _finish(choice.get("finish_reason")) or core.FinishReason.STOP
        candidates.append(core.Candidate(index, tuple(parts), reason))
    usage = data.get("usage")
    return core.GenerateResponse(
        tuple(candidates),
        decode_usage(usage) if isinstance(usage, dict) else core.Usage(),
        str(data.get("model") or model),
        str(data.get("id") or ""),
        float(data.get("created") or time.time()),
    )


@dataclass
class _PendingCall:
    id: str | None = None
    name: str = ""
    arguments: str = ""


@dataclass
class ChunkDecoder:
    """chat.completion.chunk events -> core StreamChunks.

    Text streams as it comes; a tool call's argument fragments are gathered and leave as one
    whole functionCall part when its choice finishes (as Gemini streams calls).
    """

    model: str
    _calls: dict[tuple[int, int], _PendingCall] = field(default_factory=dict)

    def decode(self, data: dict[str, Any]) -> core.StreamChunk | None:
        candidates = tuple(
            c for c in (self._choice(raw) for raw in data.get("choices") or []) if c is not None
        )
        usage = data.get("usage")
        if not candidates and not isinstance(usage, dict):
            return None
        return core.StreamChunk(
            candidates,
            str(data.get("model") or self.model),
            str(data.get("id") or ""),
            float(data.get("created") or time.time()),
            decode_usage(usage) if isinstance(usage, dict) else None,
        )

    def _choice(self, raw: dict[str, Any]) -> core.Candidate | None:
        index = int(raw.get("index", 0))
        delta = raw.get("delta") or {}
        parts: list[core.Part] = []
        if delta.get("reasoning_content"):
            parts.append(core.TextPart(delta["reasoning_content"], thought=True))
        if delta.get("content"):
            parts.append(core.TextPart(delta["content"]))
        for fragment in delta.get("tool_calls") or []:
            pending = self._calls.setdefault((index, int(fragment.get("index", 0))), _PendingCall())
            function = fragment.get("function") or {}
            pending.id = fragment.get("id") or pending.id
            pending.name += function.get("name") or ""
            pending.arguments += function.get("arguments") or ""
        reason = _finish(raw.get("finish_reason"))
        if reason is not None:
            parts += self._finished_calls(index)
        if not parts and reason is None:
            return None
        return core.Candidate(index, tuple(parts), reason)

    def _finished_calls(self, index: int) -> list[core.Part]:
        keys = sorted(k for k in self._calls if k[0] == index)
        raw = [self._calls.pop(k) for k in keys]
        return _calls(
            [{"id": c.id, "function": {"name": c.name, "arguments": c.arguments}} for c in raw],
            f"choices[{index}].delta",
        )


def encode_embeddings_request(upstream_model: str, texts: list[str]) -> dict[str, Any]:
    return {"model": upstream_model, "input": texts, "encoding_format": "float"}


def decode_embeddings(data: dict[str, Any], model: str, count: int) -> core.EmbedResponse:
    items = sorted(data.get("data") or [], key=lambda item: int(item.get("index", 0)))
    vectors = tuple(tuple(item.get("embedding") or ()) for item in items)
    if len(vectors) != count:
        raise ValueError(f"the upstream answered {len(vectors)} embeddings for {count} inputs")
    tokens = int((data.get("usage") or {}).get("prompt_tokens") or 0)
    return core.EmbedResponse(str(data.get("model") or model), vectors, tokens)
