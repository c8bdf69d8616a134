"""GemgateError -> OpenAI's error envelope {"error": {message, type, param, code}}.

The HTTP status is the error code's own, so the `openai` SDK raises the matching typed
exception (BadRequestError, AuthenticationError, NotFoundError, RateLimitError, ...). `type`
and `code` follow from the canonical code and the offending field, never from message text.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from gemgate.core.errors import Code, GemgateError, InvalidArgument, QuotaExceeded

_TYPES = {
    Code.INVALID_ARGUMENT: "invalid_request_error",
    Code.FAILED_PRECONDITION: "invalid_request_error",
    Code.UNAUTHENTICATED: "authentication_error",
    Code.PERMISSION_DENIED: "permission_error",
    Code.NOT_FOUND: "not_found_error",
    Code.RESOURCE_EXHAUSTED: "rate_limit_error",
    Code.DEADLINE_EXCEEDED: "timeout_error",
    Code.UNAVAILABLE: "service_unavailable_error",
    Code.INTERNAL: "server_error",
}
_SPECIAL_CODES = {
    (Code.NOT_FOUND, "model"): "model_not_found",
    (Code.UNAUTHENTICATED, "key"): "invalid_api_key",
}
# Fields the shared pipeline names in Gemini's terms, and the request parameter a caller of
# this dialect set instead. Most specific first.
_PARAMS = (
    ("generationConfig.maxOutputTokens", "max_tokens"),
    ("generationConfig.temperature", "temperature"),
    ("generationConfig.topP", "top_p"),
    ("generationConfig.candidateCount", "n"),
    ("generationConfig.stopSequences", "stop"),
    ("generationConfig.seed", "seed"),
    ("generationConfig.presencePenalty", "presence_penalty"),
    ("generationConfig.frequencyPenalty", "frequency_penalty"),
    ("generationConfig.responseLogprobs", "logprobs"),
    ("generationConfig.logprobs", "top_logprobs"),
    ("generationConfig.thinkingConfig", "reasoning_effort"),
    ("generationConfig.responseMimeType", "response_format"),
    ("generationConfig.responseSchema", "response_format"),
    ("generationConfig.responseJsonSchema", "response_format"),
    ("generationConfig", None),
    ("systemInstruction", "messages"),
    ("contents", "messages"),
    ("toolConfig", "tool_choice"),
    ("tools", "tools"),
    ("cachedContent", "extra_body.google.cached_content"),
    ("key", None),
    ("body", None),
)
_FIELD_SEGMENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_TYPE_SEGMENTS = {"str", "int", "float", "bool", "dict", "list", "none"}


def openai_param(field: str | None) -> str | None:
    """The request parameter a field names, spelled as this dialect's callers know it."""
    if field is None:
        return None
    for gemini, param in _PARAMS:
        if field == gemini or field.startswith((gemini + ".", gemini + "[")):
            return param
    return field


def error_code(error: GemgateError) -> str:
    if isinstance(error, QuotaExceeded):
        # OpenAI's own codes: a spent budget is a billing matter, the rest are rate limits.
        return "insufficient_quota" if error.retry_after is None else "rate_limit_exceeded"
    return _SPECIAL_CODES.get((error.code, error.field or ""), error.code.value.lower())


def error_body(error: GemgateError) -> dict[str, Any]:
    return {
        "error": {
            "message": error.message,
            "type": _TYPES[error.code],
            "param": openai_param(error.field),
            "code": error_code(error),
        }
    }


def _dotted(loc: tuple[int | str, ...]) -> str:
    """messages.0.content.list[...].1.text -> messages[0].content[1].text (union tags out)."""
    out = ""
    for item in loc:
        if isinstance(item, int):
            out += f"[{item}]"
        elif _FIELD_SEGMENT.match(item) and item not in _TYPE_SEGMENTS:
            out += f".{item}" if out else item
    return out


def from_validation_error(exc: ValidationError) -> InvalidArgument:
    """The most specific problem (the deepest), named by its parameter path."""
    errors = exc.errors(include_url=False)
    first = max(errors, key=lambda e: len(e["loc"]))
    field = _dotted(tuple(first["loc"])) or "body"
    if first["type"] == "missing":
        return InvalidArgument(f"Missing required parameter: '{field}'.", field=field)
    return InvalidArgument(f"Invalid value for '{field}': {first['msg']}", field=field)
