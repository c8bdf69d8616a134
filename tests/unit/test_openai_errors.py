"""OpenAI's error envelope, pinned: status, type, param and code for each canonical code."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from gemgate.core.errors import (
    Code,
    FailedPrecondition,
    GemgateError,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)
from gemgate.dialects.openai import schemas as wire
from gemgate.dialects.openai.errors import error_body, from_validation_error, openai_param


def test_the_envelope_is_pinned() -> None:
    error = InvalidArgument("temperature is too hot", field="generationConfig.temperature")
    assert error_body(error) == {
        "error": {
            "message": "temperature is too hot",
            "type": "invalid_request_error",
            "param": "temperature",
            "code": "invalid_argument",
        }
    }


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (InvalidArgument("x"), 400, "invalid_request_error"),
        (FailedPrecondition("x"), 400, "invalid_request_error"),
        (Unauthenticated("x"), 401, "authentication_error"),
        (PermissionDenied("x"), 403, "permission_error"),
        (NotFound("x"), 404, "not_found_error"),
        (ResourceExhausted("x"), 429, "rate_limit_error"),
        (Internal("x"), 500, "server_error"),
        (Unavailable("x"), 503, "service_unavailable_error"),
    ],
)
def test_each_code_has_the_status_the_sdk_types_by(
    error: GemgateError, status: int, kind: str
) -> None:
    assert error.code.http_status == status
    assert error_body(error)["error"]["type"] == kind


def test_every_code_has_a_type() -> None:
    for code in Code:
        error = GemgateError("x")
        error.code = code
        assert error_body(error)["error"]["type"]


def test_an_unknown_model_says_model_not_found() -> None:
    body = error_body(NotFound("models/x is not found", field="model"))
    assert body["error"]["code"] == "model_not_found" and body["error"]["param"] == "model"


def test_a_bad_key_says_invalid_api_key() -> None:
    body = error_body(Unauthenticated("API key not valid.", field="key"))
    assert body["error"]["code"] == "invalid_api_key" and body["error"]["param"] is None


@pytest.mark.parametrize(
    ("field", "param"),
    [
        ("generationConfig.maxOutputTokens", "max_tokens"),
        ("generationConfig.thinkingConfig", "reasoning_effort"),
        ("generationConfig.responseSchema", "response_format"),
        ("contents[0].parts[1].inlineData", "messages"),
        ("systemInstruction", "messages"),
        ("tools[0].functionDeclarations[0].parameters", "tools"),
        ("toolConfig.functionCallingConfig.mode", "tool_choice"),
        ("messages[2].content[0].image_url.url", "messages[2].content[0].image_url.url"),
        ("body", None),
        (None, None),
    ],
)
def test_pipeline_fields_are_named_as_openai_parameters(
    field: str | None, param: str | None
) -> None:
    assert openai_param(field) == param


def validation_error(body: dict[str, Any]) -> InvalidArgument:
    with pytest.raises(ValidationError) as caught:
        wire.ChatCompletionRequest.model_validate(body)
    return from_validation_error(caught.value)


def test_a_missing_parameter_is_named() -> None:
    error = validation_error({"model": "m"})
    assert error.field == "messages"
    assert error.message == "Missing required parameter: 'messages'."


def test_an_out_of_range_value_is_named() -> None:
    error = validation_error({"model": "m", "messages": [{"role": "user"}], "temperature": 3})
    assert error.field == "temperature" and "temperature" in error.message


def test_union_tags_stay_out_of_the_path() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    assert validation_error(body).field == "messages[0].content[0].type"


def test_a_bad_role_is_named() -> None:
    body = {"model": "m", "messages": [{"role": "robot", "content": "hi"}]}
    assert validation_error(body).field == "messages[0].role"


def test_a_bad_tool_choice_is_named() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": "always"}
    assert validation_error(body).field == "tool_choice"
