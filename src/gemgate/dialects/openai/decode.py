"""ChatCompletionRequest -> core GenerateRequest. Pure functions; every refusal names its field.

Field names in errors are OpenAI's (`messages[2].content[0].image_url`), so a caller of this
dialect can find what to change. Messages are decoded in messages.py.
"""

from __future__ import annotations

from typing import Any

from gemgate.core import types as core
from gemgate.core.errors import InvalidArgument
from gemgate.dialects.openai import schemas as wire
from gemgate.dialects.openai.messages import decode_messages

# Google's documented mapping of reasoning_effort onto Gemini 2.5 thinking budgets.
EFFORT_BUDGETS = {"none": 0, "minimal": 1024, "low": 1024, "medium": 8192, "high": 24576}


def _google(request: wire.ChatCompletionRequest) -> wire.GoogleExtensions | None:
    if request.extra_body is not None and request.extra_body.google is not None:
        return request.extra_body.google
    return request.google


def decode_thinking(request: wire.ChatCompletionRequest) -> core.ThinkingConfig | None:
    google = _google(request)
    config = google.thinking_config if google else None
    effort = request.reasoning_effort
    if effort is None:
        if config is None:
            return None
        level = config.thinking_level.upper() if config.thinking_level else None
        return core.ThinkingConfig(config.thinking_budget, level, bool(config.include_thoughts))
    if config is not None and (
        config.thinking_budget is not None or config.thinking_level is not None
    ):
        raise InvalidArgument(
            "reasoning_effort and extra_body.google.thinking_config (thinking_budget or "
            "thinking_level) cannot both be set.",
            field="reasoning_effort",
        )
    include = bool(config and config.include_thoughts)
    return core.ThinkingConfig(budget=EFFORT_BUDGETS[effort], include_thoughts=include)


def decode_response_format(
    response_format: wire.ResponseFormat | None,
) -> tuple[str | None, Any]:
    """(response_mime_type, response_json_schema)."""
    if response_format is None or response_format.type == "text":
        return None, None
    if response_format.type == "json_object":
        return "application/json", None
    if response_format.json_schema is None:
        raise InvalidArgument(
            "response_format.json_schema is required when type is 'json_schema'.",
            field="response_format.json_schema",
        )
    return "application/json", response_format.json_schema.schema_


def _stop(stop: str | list[str] | None) -> tuple[str, ...]:
    if stop is None:
        return ()
    return (stop,) if isinstance(stop, str) else tuple(stop)


def decode_config(request: wire.ChatCompletionRequest) -> core.GenerationConfig:
    if request.top_logprobs is not None and not request.logprobs:
        raise InvalidArgument(
            "top_logprobs is only allowed when logprobs is true.", field="top_logprobs"
        )
    mime_type, schema = decode_response_format(request.response_format)
    return core.GenerationConfig(
        temperature=request.temperature,
        top_p=request.top_p,
        candidate_count=request.n or 1,
        max_output_tokens=request.max_completion_tokens or request.max_tokens,
        stop_sequences=_stop(request.stop),
        seed=request.seed,
        presence_penalty=request.presence_penalty,
        frequency_penalty=request.frequency_penalty,
        response_logprobs=bool(request.logprobs),
        logprobs=request.top_logprobs,
        response_mime_type=mime_type,
        response_json_schema=schema,
        thinking=decode_thinking(request),
    )


def _declaration(tool: wire.ChatCompletionToolParam, where: str) -> dict[str, Any]:
    if tool.type != "function" or tool.function is None:
        raise InvalidArgument(
            f"{where}.type {tool.type!r} is not supported; only 'function' tools are.",
            field=f"{where}.type",
        )
    function = tool.function
    declaration: dict[str, Any] = {
        "name": function.name,
        "description": function.description or "",
    }
    if function.parameters is not None:
        declaration["parametersJsonSchema"] = function.parameters
    return declaration


def _choice(choice: wire.ToolChoice | None, names: list[str]) -> tuple[str, list[str], list[str]]:
    """(mode, allowedFunctionNames, names the model may see)."""
    if choice is None or choice == "auto":
        return "AUTO", [], names
    if choice == "none":
        return "NONE", [], names
    if choice == "required":
        return "ANY", [], names
    if isinstance(choice, wire.ChatCompletionNamedToolChoiceParam):
        wanted, field = [choice.function.name], "tool_choice.function.name"
    else:
        wanted = [t.function.name for t in choice.allowed_tools.tools]
        field = "tool_choice.allowed_tools.tools"
    unknown = [name for name in wanted if name not in names]
    if unknown:
        raise InvalidArgument(f"tool_choice names undeclared tools {unknown}.", field=field)
    if isinstance(choice, wire.ChatCompletionNamedToolChoiceParam):
        return "ANY", wanted, names
    # allowed_tools narrows what the model sees; Gemini allows allowedFunctionNames only
    # with mode ANY, so the narrowing travels as the declarations themselves.
    return ("ANY" if choice.allowed_tools.mode == "required" else "AUTO"), [], wanted


def decode_tools(
    request: wire.ChatCompletionRequest,
) -> tuple[tuple[core.Tool, ...], dict[str, Any] | None]:
    """(tools, tool_config): one functionDeclarations tool carrying every function."""
    declarations = [_declaration(t, f"tools[{i}]") for i, t in enumerate(request.tools or ())]
    if not declarations:
        if request.tool_choice in (None, "none", "auto"):
            return (), None
        raise InvalidArgument("tool_choice needs tools to choose from.", field="tool_choice")
    names = [d["name"] for d in declarations]
    mode, allowed, visible = _choice(request.tool_choice, names)
    calling: dict[str, Any] = {"mode": mode}
    if allowed:
        calling["allowedFunctionNames"] = allowed
    if request.parallel_tool_calls is False:
        calling["maxCallsPerTurn"] = 1
    kept = [d for d in declarations if d["name"] in visible]
    tool = core.Tool("functionDeclarations", {"functionDeclarations": kept})
    return (tool,), {"functionCallingConfig": calling}


def _refuse_unsupported(request: wire.ChatCompletionRequest) -> None:
    if request.functions is not None or request.function_call is not None:
        field = "functions" if request.functions is not None else "function_call"
        raise InvalidArgument(
            f"{field} is deprecated and not supported; use tools and tool_choice.", field=field
        )
    if request.logit_bias:
        raise InvalidArgument("logit_bias is not supported by this server.", field="logit_bias")
    if request.audio is not None or any(m != "text" for m in request.modalities or ()):
        field = "audio" if request.audio is not None else "modalities"
        raise InvalidArgument(f"{field}: only text output is supported.", field=field)


def decode_chat_request(request: wire.ChatCompletionRequest) -> core.GenerateRequest:
    _refuse_unsupported(request)
    system, contents = decode_messages(request.messages)
    tools, tool_config = decode_tools(request)
    google = _google(request)
    return core.GenerateRequest(
        model=request.model,
        contents=contents,
        system_instruction=system,
        config=decode_config(request),
        tools=tools,
        tool_config=tool_config,
        cached_content=google.cached_content if google else None,
    )
