"""Gemini wire models -> neutral core types. Pure functions; every refusal names its field."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Any

from gemgate.core import types as core
from gemgate.core.errors import InvalidArgument
from gemgate.dialects.gemini import schemas as wire
from gemgate.dialects.gemini.schema import snake_case, to_json_schema

_ROLES = {"user": core.Role.USER, "model": core.Role.MODEL}


def decode_bytes(value: str, field: str) -> bytes:
    """Google sends URL-safe base64 with padding; standard alphabets and no padding pass too."""
    text = value.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidArgument(
            f"Invalid value at '{field}' (TYPE_BYTES), Base64 decoding failed for {value[:32]!r}",
            field=field,
        ) from exc


def decode_part(part: wire.Part, where: str) -> core.Part:
    signature = (
        decode_bytes(part.thought_signature, f"{where}.thoughtSignature")
        if part.thought_signature
        else None
    )
    data_fields = [
        name
        for name in (
            "text",
            "inline_data",
            "file_data",
            "function_call",
            "function_response",
            "executable_code",
            "code_execution_result",
        )
        if getattr(part, name) is not None
    ]
    if len(data_fields) != 1:
        problem = "must have one initialized field" if not data_fields else "has more than one"
        raise InvalidArgument(
            f"{where}: required oneof field 'data' {problem} (found: {data_fields or 'none'}).",
            field=where,
        )
    if part.text is not None:
        return core.TextPart(part.text, bool(part.thought), signature)
    if part.inline_data is not None:
        blob = part.inline_data
        return core.InlineDataPart(
            blob.mime_type,
            decode_bytes(blob.data, f"{where}.inlineData.data"),
            blob.display_name,
            signature,
        )
    if part.file_data is not None:
        fd = part.file_data
        return core.FileDataPart(fd.file_uri, fd.mime_type, fd.display_name, signature)
    if part.function_call is not None:
        fc = part.function_call
        return core.FunctionCallPart(fc.name, dict(fc.args or {}), fc.id, signature)
    if part.function_response is not None:
        fr = part.function_response
        return core.FunctionResponsePart(fr.name, dict(fr.response or {}), fr.id, signature)
    if part.executable_code is not None:
        code = part.executable_code
        return core.ExecutableCodePart(code.code, code.language, signature)
    assert part.code_execution_result is not None
    result = part.code_execution_result
    return core.CodeExecutionResultPart(result.outcome, result.output or "", signature)


def decode_content(content: wire.Content, where: str) -> core.Content:
    role_name = (content.role or "user").lower()
    role = _ROLES.get(role_name)
    if role is None:
        raise InvalidArgument(
            f"Please use a valid role: user, model. ({where}.role is {content.role!r})",
            field=f"{where}.role",
        )
    parts = tuple(decode_part(p, f"{where}.parts[{i}]") for i, p in enumerate(content.parts))
    return core.Content(role, parts)


def decode_contents(contents: list[wire.Content]) -> tuple[core.Content, ...]:
    return tuple(decode_content(c, f"contents[{i}]") for i, c in enumerate(contents))


def decode_thinking(config: wire.ThinkingConfig | None) -> core.ThinkingConfig | None:
    if config is None:
        return None
    return core.ThinkingConfig(
        budget=config.thinking_budget,
        level=config.thinking_level.upper() if config.thinking_level else None,
        include_thoughts=bool(config.include_thoughts),
    )


def decode_generation_config(config: wire.GenerationConfig | None) -> core.GenerationConfig:
    if config is None:
        return core.GenerationConfig()
    if config.logprobs is not None and not config.response_logprobs:
        raise InvalidArgument(
            "generationConfig.logprobs is only allowed when responseLogprobs is true.",
            field="generationConfig.logprobs",
        )
    return core.GenerationConfig(
        temperature=config.temperature,
        top_p=config.top_p,
        top_k=int(config.top_k) if config.top_k is not None else None,
        candidate_count=config.candidate_count or 1,
        max_output_tokens=config.max_output_tokens,
        stop_sequences=tuple(config.stop_sequences or ()),
        seed=config.seed,
        presence_penalty=config.presence_penalty,
        frequency_penalty=config.frequency_penalty,
        response_logprobs=bool(config.response_logprobs),
        logprobs=config.logprobs,
        response_mime_type=config.response_mime_type,
        response_json_schema=_response_schema(config),
        thinking=decode_thinking(config.thinking_config),
    )


def _response_schema(config: wire.GenerationConfig) -> Any:
    if config.response_schema is not None and config.response_json_schema is not None:
        raise InvalidArgument(
            "Only one of generationConfig.responseSchema and responseJsonSchema may be set.",
            field="generationConfig.responseSchema",
        )
    if config.response_schema is not None:
        return to_json_schema(config.response_schema, "generationConfig.responseSchema")
    return config.response_json_schema


def _declaration(raw: dict[str, Any], where: str) -> dict[str, Any]:
    keys = {snake_case(k): v for k, v in raw.items()}
    name = keys.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidArgument(f"{where}.name is required.", field=f"{where}.name")
    if keys.get("parameters") is not None and keys.get("parameters_json_schema") is not None:
        raise InvalidArgument(
            f"{where}: only one of parameters and parametersJsonSchema may be set.",
            field=f"{where}.parameters",
        )
    parameters: Any = keys.get("parameters_json_schema")
    if keys.get("parameters") is not None:
        parameters = to_json_schema(keys["parameters"], f"{where}.parameters")
    declaration: dict[str, Any] = {"name": name, "description": keys.get("description") or ""}
    if parameters is not None:
        declaration["parametersJsonSchema"] = parameters
    return declaration


def _decode_tools(tools: list[wire.Tool] | None) -> tuple[core.Tool, ...]:
    decoded: list[core.Tool] = []
    for i, tool in enumerate(tools or []):
        for kind, spec in tool.model_dump(exclude_none=True, by_alias=True).items():
            if kind == "functionDeclarations":
                where = f"tools[{i}].functionDeclarations"
                spec = {
                    "functionDeclarations": [
                        _declaration(d, f"{where}[{j}]") for j, d in enumerate(spec)
                    ]
                }
            decoded.append(core.Tool(kind, spec if isinstance(spec, dict) else {"items": spec}))
    return tuple(decoded)


def decode_generate_request(
    model: str, request: wire.GenerateContentRequest
) -> core.GenerateRequest:
    system = (
        decode_content(request.system_instruction, "systemInstruction")
        if request.system_instruction is not None
        else None
    )
    tool_config = (
        request.tool_config.model_dump(exclude_none=True, by_alias=True)
        if request.tool_config
        else None
    )
    return core.GenerateRequest(
        model=model,
        contents=decode_contents(request.contents),
        system_instruction=system,
        config=decode_generation_config(request.generation_config),
        tools=_decode_tools(request.tools),
        tool_config=tool_config,
        cached_content=request.cached_content,
    )


_DURATION = re.compile(r"^(\d+(?:\.\d{1,9})?)s$")


def decode_duration(value: str, field: str) -> float:
    match = _DURATION.match(value.strip())
    if match is None:
        raise InvalidArgument(
            f"Invalid value at '{field}' (type.googleapis.com/google.protobuf.Duration), "
            f"Field '{field}', Illegal duration format; duration must end with 's': {value!r}",
            field=field,
        )
    return float(match.group(1))


def decode_timestamp(value: str, field: str) -> float:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidArgument(
            f"Invalid value at '{field}' (type.googleapis.com/google.protobuf.Timestamp): "
            f"{value!r}",
            field=field,
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def decode_cache_draft(body: wire.CachedContent) -> core.CacheDraft:
    if not body.model:
        raise InvalidArgument("model is required to create a cache.", field="model")
    request = decode_generate_request(
        body.model,
        wire.GenerateContentRequest(
            contents=body.contents,
            system_instruction=body.system_instruction,
            tools=body.tools,
            tool_config=body.tool_config,
        ),
    )
    return core.CacheDraft(
        model=body.model,
        contents=request.contents,
        system_instruction=request.system_instruction,
        tools=request.tools,
        tool_config=request.tool_config,
        display_name=body.display_name or "",
        ttl_seconds=decode_duration(body.ttl, "ttl") if body.ttl is not None else None,
        expire_time=decode_timestamp(body.expire_time, "expireTime")
        if body.expire_time is not None
        else None,
    )


def _at(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _embed_text(content: wire.Content, where: str) -> str:
    """The parts' texts joined by newlines: only text can be embedded."""
    texts: list[str] = []
    for index, part in enumerate(content.parts):
        if part.text is None:
            field = _at(where, f"content.parts[{index}]")
            raise InvalidArgument(f"{field}: only text parts can be embedded.", field=field)
        texts.append(part.text)
    if not texts:
        field = _at(where, "content.parts")
        raise InvalidArgument(f"{field} must contain at least one text part.", field=field)
    return "\n".join(texts)


def decode_embed_input(body: wire.EmbedContentRequest, where: str) -> core.EmbedInput:
    task = body.task_type
    if task is not None and task not in core.EMBEDDING_TASK_TYPES:
        field = _at(where, "taskType")
        raise InvalidArgument(f"Invalid value at '{field}': {task!r}.", field=field)
    if body.title is not None and task != "RETRIEVAL_DOCUMENT":
        field = _at(where, "title")
        raise InvalidArgument(
            f"{field} is only valid with taskType RETRIEVAL_DOCUMENT.", field=field
        )
    dims = body.output_dimensionality
    if dims is not None and dims < 1:
        field = _at(where, "outputDimensionality")
        raise InvalidArgument(f"{field} must be positive, got {dims}.", field=field)
    return core.EmbedInput(
        text=_embed_text(body.content, where),
        where=where,
        dimensions_field=_at(where, "outputDimensionality"),
        task_type=task,
        title=body.title,
        output_dimensionality=dims,
    )


def decode_embed_request(model: str, body: wire.EmbedContentRequest) -> core.EmbedRequest:
    return core.EmbedRequest(model, (decode_embed_input(body, ""),))


def decode_batch_embed_request(
    model: str, body: wire.BatchEmbedContentsRequest
) -> core.EmbedRequest:
    """Every request must name the URL's model (or none), as Google requires."""
    if not body.requests:
        raise InvalidArgument("requests must not be empty.", field="requests")
    wanted = model.removeprefix("models/")
    inputs: list[core.EmbedInput] = []
    for index, item in enumerate(body.requests):
        where = f"requests[{index}]"
        if item.model is not None and item.model.removeprefix("models/") != wanted:
            raise InvalidArgument(
                f"{where}.model is {item.model!r}, but the batch is for models/{wanted}.",
                field=f"{where}.model",
            )
        inputs.append(decode_embed_input(item, where))
    return core.EmbedRequest(model, tuple(inputs))
