"""Golden fixtures: OpenAI chat-completions JSON -> core GenerateRequest."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from gemgate.core import types as core
from gemgate.core.errors import InvalidArgument
from gemgate.dialects.openai import schemas as wire
from gemgate.dialects.openai.decode import decode_chat_request

USER_HI = {"role": "user", "content": "Hi"}


def decode(body: dict[str, Any]) -> core.GenerateRequest:
    return decode_chat_request(wire.ChatCompletionRequest.model_validate(body))


def refusal(body: dict[str, Any]) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as caught:
        decode(body)
    return caught.value


def chat(*messages: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"model": "gemini-2.5-flash", "messages": list(messages), **fields}


def test_the_observed_sdk_request_decodes_whole() -> None:
    body = {
        "model": "gemini-2.5-flash",
        "messages": [
            {"role": "system", "content": "s"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "hi"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            },
        ],
        "max_tokens": 10,
        "temperature": 0.2,
        "tool_choice": "auto",
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "f",
                    "description": "d",
                    "parameters": {"type": "object", "properties": {"a": {"type": "string"}}},
                },
            }
        ],
        "extra_body": {
            "google": {
                "thinking_config": {"include_thoughts": True, "thinking_budget": 100},
                "cached_content": "cachedContents/x",
            }
        },
    }
    declaration = {
        "name": "f",
        "description": "d",
        "parametersJsonSchema": {"type": "object", "properties": {"a": {"type": "string"}}},
    }
    assert decode(body) == core.GenerateRequest(
        model="gemini-2.5-flash",
        contents=(
            core.Content(
                core.Role.USER,
                (core.TextPart("hi"), core.InlineDataPart("image/png", b"\x00\x00\x00")),
            ),
        ),
        system_instruction=core.Content(core.Role.USER, (core.TextPart("s"),)),
        config=core.GenerationConfig(
            temperature=0.2,
            max_output_tokens=10,
            thinking=core.ThinkingConfig(budget=100, include_thoughts=True),
        ),
        tools=(core.Tool("functionDeclarations", {"functionDeclarations": [declaration]}),),
        tool_config={"functionCallingConfig": {"mode": "AUTO"}},
        cached_content="cachedContents/x",
    )


def test_system_and_developer_messages_join_into_the_system_instruction() -> None:
    request = decode(
        chat(
            {"role": "system", "content": "Be brief."},
            USER_HI,
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
        )
    )
    assert request.system_instruction == core.Content(
        core.Role.USER, (core.TextPart("Be brief.\n\nAnswer in French."),)
    )
    assert request.contents == (core.Content(core.Role.USER, (core.TextPart("Hi"),)),)


def test_roles_map_to_user_and_model_turns() -> None:
    request = decode(chat(USER_HI, {"role": "assistant", "content": "Hello"}, USER_HI))
    assert [c.role for c in request.contents] == [core.Role.USER, core.Role.MODEL, core.Role.USER]
    assert request.contents[1].parts == (core.TextPart("Hello"),)
    assert request.system_instruction is None


def test_url_images_become_file_references_and_data_urls_inline_bytes() -> None:
    text_url = "data:text/plain,caf%C3%A9"
    request = decode(
        chat(
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                    {"type": "image_url", "image_url": {"url": text_url, "detail": "low"}},
                ],
            }
        )
    )
    assert request.contents[0].parts == (
        core.FileDataPart(file_uri="https://example.com/cat.png"),
        core.InlineDataPart("text/plain", "café".encode()),
    )


def test_audio_and_file_parts_inline_their_bytes() -> None:
    wav = base64.b64encode(b"RIFF").decode()
    request = decode(
        chat(
            {
                "role": "user",
                "content": [
                    {"type": "input_audio", "input_audio": {"data": wav, "format": "wav"}},
                    {
                        "type": "file",
                        "file": {"file_data": f"data:application/pdf;base64,{wav}"},
                    },
                    {"type": "file", "file": {"file_id": "files/abc", "filename": "a.pdf"}},
                ],
            }
        )
    )
    assert request.contents[0].parts == (
        core.InlineDataPart("audio/wav", b"RIFF"),
        core.InlineDataPart("application/pdf", b"RIFF"),
        core.FileDataPart(file_uri="files/abc", display_name="a.pdf"),
    )


def test_bad_base64_in_a_data_url_names_the_part() -> None:
    error = refusal(
        chat(
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@"}}
                ],
            }
        )
    )
    assert error.field == "messages[0].content[0].image_url.url"


def test_an_unknown_content_part_type_names_it() -> None:
    error = refusal(chat({"role": "user", "content": [{"type": "video", "video": {}}]}))
    assert error.field == "messages[0].content[0].type"


def test_a_conversation_with_tool_calls_and_results() -> None:
    signature = base64.b64encode(b"sig").decode()
    request = decode(
        chat(
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
                        "extra_content": {"google": {"thought_signature": signature}},
                    },
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Rome"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
            {"role": "tool", "tool_call_id": "call_2", "content": "sunny"},
        )
    )
    assert request.contents[1:] == (
        core.Content(
            core.Role.MODEL,
            (
                core.FunctionCallPart("weather", {"city": "Paris"}, "call_1", b"sig"),
                core.FunctionCallPart("weather", {"city": "Rome"}, "call_2"),
            ),
        ),
        core.Content(
            core.Role.USER,
            (
                core.FunctionResponsePart("weather", {"result": {"temp": 21}}, "call_1"),
                core.FunctionResponsePart("weather", {"result": "sunny"}, "call_2"),
            ),
        ),
    )


def test_assistant_text_comes_before_its_tool_calls() -> None:
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    request = decode(
        chat(USER_HI, {"role": "assistant", "content": "Let me check.", "tool_calls": [call]})
    )
    assert request.contents[1].parts == (
        core.TextPart("Let me check."),
        core.FunctionCallPart("f", {}, "c"),
    )


def test_a_tool_result_for_an_unknown_call_names_tool_call_id() -> None:
    error = refusal(chat(USER_HI, {"role": "tool", "tool_call_id": "nope", "content": "1"}))
    assert error.field == "messages[1].tool_call_id"


def test_tool_call_arguments_must_be_a_json_object() -> None:
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "[1]"}}
    error = refusal(chat(USER_HI, {"role": "assistant", "tool_calls": [call]}))
    assert error.field == "messages[1].tool_calls[0].function.arguments"


def test_an_assistant_message_needs_content_or_tool_calls() -> None:
    error = refusal(chat(USER_HI, {"role": "assistant"}))
    assert error.field == "messages[1].content"


def test_only_system_messages_is_refused() -> None:
    assert refusal(chat({"role": "system", "content": "s"})).field == "messages"


WEATHER_TOOL = {"type": "function", "function": {"name": "weather", "parameters": {}}}
CLOCK_TOOL = {"type": "function", "function": {"name": "clock"}}


@pytest.mark.parametrize(
    ("tool_choice", "calling"),
    [
        (None, {"mode": "AUTO"}),
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        (
            {"type": "function", "function": {"name": "clock"}},
            {"mode": "ANY", "allowedFunctionNames": ["clock"]},
        ),
    ],
)
def test_tool_choice_becomes_a_function_calling_mode(
    tool_choice: Any, calling: dict[str, Any]
) -> None:
    fields = {"tools": [WEATHER_TOOL, CLOCK_TOOL]}
    if tool_choice is not None:
        fields["tool_choice"] = tool_choice
    request = decode(chat(USER_HI, **fields))
    assert request.tool_config == {"functionCallingConfig": calling}
    assert request.tools == (
        core.Tool(
            "functionDeclarations",
            {
                "functionDeclarations": [
                    {"name": "weather", "description": "", "parametersJsonSchema": {}},
                    {"name": "clock", "description": ""},
                ]
            },
        ),
    )


def test_allowed_tools_narrows_the_declarations() -> None:
    choice = {
        "type": "allowed_tools",
        "allowed_tools": {
            "mode": "required",
            "tools": [{"type": "function", "function": {"name": "clock"}}],
        },
    }
    request = decode(chat(USER_HI, tools=[WEATHER_TOOL, CLOCK_TOOL], tool_choice=choice))
    assert request.tool_config == {"functionCallingConfig": {"mode": "ANY"}}
    assert request.tools[0].spec == {"functionDeclarations": [{"name": "clock", "description": ""}]}


def test_a_named_tool_choice_must_be_declared() -> None:
    choice = {"type": "function", "function": {"name": "nope"}}
    error = refusal(chat(USER_HI, tools=[WEATHER_TOOL], tool_choice=choice))
    assert error.field == "tool_choice.function.name"


def test_required_tool_choice_without_tools_is_refused() -> None:
    assert refusal(chat(USER_HI, tool_choice="required")).field == "tool_choice"


def test_no_tools_means_no_tool_config() -> None:
    request = decode(chat(USER_HI, tool_choice="auto"))
    assert request.tools == () and request.tool_config is None


def test_non_function_tools_are_refused_by_name() -> None:
    error = refusal(chat(USER_HI, tools=[{"type": "custom", "custom": {"name": "x"}}]))
    assert error.field == "tools[0].type"


def test_sampling_fields_map_to_the_generation_config() -> None:
    request = decode(
        chat(
            USER_HI,
            max_tokens=5,
            max_completion_tokens=7,
            temperature=0,
            top_p=0.5,
            n=2,
            stop="END",
            seed=3,
            presence_penalty=0.5,
            frequency_penalty=-0.5,
            logprobs=True,
            top_logprobs=2,
            user="someone",
            parallel_tool_calls=False,
            store=False,
            metadata={"a": "b"},
        )
    )
    assert request.config == core.GenerationConfig(
        temperature=0.0,
        top_p=0.5,
        candidate_count=2,
        max_output_tokens=7,
        stop_sequences=("END",),
        seed=3,
        presence_penalty=0.5,
        frequency_penalty=-0.5,
        response_logprobs=True,
        logprobs=2,
    )


def test_a_stop_list_is_kept_in_order() -> None:
    request = decode(chat(USER_HI, stop=["a", "b"], max_tokens=4))
    assert request.config.stop_sequences == ("a", "b")
    assert request.config.max_output_tokens == 4


def test_top_logprobs_needs_logprobs() -> None:
    assert refusal(chat(USER_HI, top_logprobs=2)).field == "top_logprobs"


@pytest.mark.parametrize(
    ("effort", "budget"),
    [("none", 0), ("minimal", 1024), ("low", 1024), ("medium", 8192), ("high", 24576)],
)
def test_reasoning_effort_becomes_a_thinking_budget(effort: str, budget: int) -> None:
    request = decode(chat(USER_HI, reasoning_effort=effort))
    assert request.config.thinking == core.ThinkingConfig(budget=budget)


def test_google_thinking_config_is_read_at_the_top_level_too_in_camel_case() -> None:
    google = {"thinkingConfig": {"thinkingLevel": "low", "includeThoughts": True}}
    request = decode(chat(USER_HI, google=google))
    assert request.config.thinking == core.ThinkingConfig(level="LOW", include_thoughts=True)


def test_include_thoughts_combines_with_reasoning_effort() -> None:
    google = {"google": {"thinking_config": {"include_thoughts": True}}}
    request = decode(chat(USER_HI, reasoning_effort="none", extra_body=google))
    assert request.config.thinking == core.ThinkingConfig(budget=0, include_thoughts=True)


def test_reasoning_effort_with_a_thinking_budget_is_refused() -> None:
    google = {"google": {"thinking_config": {"thinking_budget": 0}}}
    error = refusal(chat(USER_HI, reasoning_effort="low", extra_body=google))
    assert error.field == "reasoning_effort"


def test_the_nothink_suffix_travels_in_the_model_id() -> None:
    request = decode({**chat(USER_HI), "model": "gemini-2.5-flash-preview-04-17-nothink"})
    assert request.model == "gemini-2.5-flash-preview-04-17-nothink"
    assert request.config.thinking is None


def test_json_object_response_format_asks_for_json() -> None:
    request = decode(chat(USER_HI, response_format={"type": "json_object"}))
    assert request.config.response_mime_type == "application/json"
    assert request.config.response_json_schema is None


def test_json_schema_response_format_carries_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
        "additionalProperties": False,
    }
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "R", "strict": True, "schema": schema},
    }
    request = decode(chat(USER_HI, response_format=response_format))
    assert request.config.response_mime_type == "application/json"
    assert request.config.response_json_schema == schema


def test_text_response_format_changes_nothing() -> None:
    assert decode(chat(USER_HI, response_format={"type": "text"})).config == (
        core.GenerationConfig()
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"functions": [{"name": "f"}]}, "functions"),
        ({"logit_bias": {"50256": -100}}, "logit_bias"),
        ({"modalities": ["text", "audio"]}, "modalities"),
    ],
)
def test_what_cannot_be_honoured_is_refused_by_name(fields: dict[str, Any], field: str) -> None:
    assert refusal(chat(USER_HI, **fields)).field == field


def test_the_legacy_function_role_is_refused() -> None:
    error = refusal(chat(USER_HI, {"role": "function", "name": "f", "content": "1"}))
    assert error.field == "messages[1].role"


def test_unknown_fields_are_ignored_at_any_depth() -> None:
    message = {
        "role": "user",
        "name": "ada",
        "content": [{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}}],
    }
    request = decode(
        chat(message, prompt_cache_key="k", stream_options={"include_obfuscation": False})
    )
    assert request.contents == (core.Content(core.Role.USER, (core.TextPart("Hi"),)),)
