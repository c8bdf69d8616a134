from __future__ import annotations

import pytest
from pydantic import ValidationError

from gemgate.core import types as core
from gemgate.core.errors import InvalidArgument
from gemgate.dialects.gemini import decode
from gemgate.dialects.gemini import schemas as wire
from gemgate.dialects.gemini.errors import from_validation_error


def request(data: dict[str, object]) -> core.GenerateRequest:
    return decode.decode_generate_request("m", wire.GenerateContentRequest.model_validate(data))


def test_camel_and_snake_case_decode_the_same() -> None:
    camel = request(
        {
            "contents": [
                {
                    "role": "user",
                    "parts": [{"inlineData": {"mimeType": "text/plain", "data": "aGk="}}],
                }
            ],
            "generationConfig": {"maxOutputTokens": 5, "stopSequences": ["x"], "topK": 3.0},
        }
    )
    snake = request(
        {
            "contents": [
                {
                    "role": "user",
                    "parts": [{"inline_data": {"mime_type": "text/plain", "data": "aGk="}}],
                }
            ],
            "generation_config": {"max_output_tokens": 5, "stop_sequences": ["x"], "top_k": 3},
        }
    )
    assert camel == snake
    assert camel.config.top_k == 3 and camel.config.max_output_tokens == 5


def test_url_safe_base64_without_padding_decodes() -> None:
    assert decode.decode_bytes("-__-", "f") == b"\xfb\xff\xfe"
    assert decode.decode_bytes("aGk", "f") == b"hi"


def test_bad_base64_names_the_field() -> None:
    with pytest.raises(InvalidArgument) as raised:
        decode.decode_bytes("not base64!!", "contents[0].parts[0].inlineData.data")
    assert raised.value.field == "contents[0].parts[0].inlineData.data"


def test_free_form_maps_keep_their_keys() -> None:
    decoded = request(
        {
            "contents": [
                {
                    "role": "model",
                    "parts": [{"functionCall": {"name": "f", "args": {"some_key": 1}}}],
                }
            ]
        }
    )
    part = decoded.contents[0].parts[0]
    assert isinstance(part, core.FunctionCallPart) and part.args == {"some_key": 1}


def test_missing_role_means_user_and_a_bad_role_is_named() -> None:
    assert request({"contents": [{"parts": [{"text": "a"}]}]}).contents[0].role is core.Role.USER
    with pytest.raises(InvalidArgument) as raised:
        request({"contents": [{"role": "assistant", "parts": [{"text": "a"}]}]})
    assert raised.value.field == "contents[0].role"


def test_a_part_needs_exactly_one_data_field() -> None:
    with pytest.raises(InvalidArgument):
        request({"contents": [{"parts": [{}]}]})
    with pytest.raises(InvalidArgument):
        request({"contents": [{"parts": [{"text": "a", "fileData": {"fileUri": "x"}}]}]})


def test_logprobs_needs_response_logprobs() -> None:
    with pytest.raises(InvalidArgument) as raised:
        request({"contents": [{"parts": [{"text": "a"}]}], "generationConfig": {"logprobs": 2}})
    assert raised.value.field == "generationConfig.logprobs"


def test_thinking_config_decodes_from_snake_case_inside() -> None:
    decoded = request(
        {
            "contents": [{"parts": [{"text": "a"}]}],
            "generationConfig": {
                "thinkingConfig": {"thinking_budget": 0, "include_thoughts": True}
            },
        }
    )
    assert decoded.config.thinking == core.ThinkingConfig(budget=0, include_thoughts=True)


def test_unknown_field_error_names_field_and_parent() -> None:
    with pytest.raises(ValidationError) as raised:
        wire.GenerateContentRequest.model_validate({"generationConfig": {"bogus": 1}})
    error = from_validation_error(raised.value)
    assert error.message == (
        "Invalid JSON payload received. Unknown name \"bogus\" at 'generationConfig': "
        "Cannot find field."
    )


def test_range_error_names_the_field_path() -> None:
    with pytest.raises(ValidationError) as raised:
        wire.GenerateContentRequest.model_validate(
            {"contents": [{"parts": [{"text": "a"}]}], "generationConfig": {"topP": 1.5}}
        )
    error = from_validation_error(raised.value)
    assert error.field == "generationConfig.topP"
