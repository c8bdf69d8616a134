"""The relay directions of the dialects: core -> upstream requests, upstream answers -> core."""

from __future__ import annotations

import pytest

from gemgate.core import types as core
from gemgate.core.errors import InvalidArgument
from gemgate.dialects.gemini import relay as gemini
from gemgate.dialects.openai import relay as openai

WEATHER = core.Tool(
    "functionDeclarations",
    {
        "functionDeclarations": [
            {
                "name": "weather",
                "description": "Weather",
                "parametersJsonSchema": {"type": "object"},
            }
        ]
    },
)
CONVERSATION = (
    core.Content(core.Role.USER, (core.TextPart("Weather in Paris?"),)),
    core.Content(
        core.Role.MODEL,
        (
            core.TextPart("hidden reasoning", thought=True),
            core.FunctionCallPart("weather", {"city": "Paris"}),
        ),
    ),
    core.Content(core.Role.USER, (core.FunctionResponsePart("weather", {"result": {"temp": 21}}),)),
)


def test_openai_request_pairs_calls_and_tool_messages_and_drops_thoughts() -> None:
    request = core.GenerateRequest(
        "m",
        CONVERSATION,
        system_instruction=core.Content(core.Role.USER, (core.TextPart("Be brief."),)),
        config=core.GenerationConfig(temperature=0.1, stop_sequences=("END",)),
        tools=(WEATHER,),
        tool_config={"functionCallingConfig": {"mode": "ANY"}},
    )
    body = openai.encode_chat_request("llama", request, stream=False)
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1_0",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1_0", "content": '{"temp": 21}'},
    ]
    assert body["tools"][0]["function"]["parameters"] == {"type": "object"}
    assert body["tool_choice"] == "required"
    assert body["stop"] == ["END"] and body["temperature"] == 0.1


def test_openai_request_refuses_gemini_built_in_tools_by_field() -> None:
    request = core.GenerateRequest("m", CONVERSATION[:1], tools=(core.Tool("googleSearch", {}),))
    with pytest.raises(InvalidArgument) as caught:
        openai.encode_chat_request("llama", request, stream=True)
    assert caught.value.field == "tools[0].googleSearch"


def test_openai_stream_gathers_tool_call_fragments_into_one_call() -> None:
    decoder = openai.ChunkDecoder("llama")
    events = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Let me check."}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "c1", "function": {"name": "weather", "arguments": '{"ci'}}
        ]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": 'ty": "Oslo"}'}}
        ]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 6,
                                  "completion_tokens_details": {"reasoning_tokens": 2}}},
    ]  # fmt: skip
    chunks = [c for c in (decoder.decode(e) for e in events) if c is not None]
    assert chunks[0].candidates[0].parts == (core.TextPart("Let me check."),)
    final = chunks[1].candidates[0]
    assert final.parts == (core.FunctionCallPart("weather", {"city": "Oslo"}, "c1"),)
    assert final.finish_reason is core.FinishReason.STOP
    assert chunks[2].usage == core.Usage(prompt_tokens=9, candidates_tokens=4, thoughts_tokens=2)


def test_openai_completion_reasoning_becomes_a_thought() -> None:
    response = openai.decode_completion(
        {
            "model": "qwen3",
            "choices": [
                {
                    "index": 0,
                    "message": {"content": "42", "reasoning_content": "think"},
                    "finish_reason": "length",
                }
            ],
        },
        "fallback",
    )
    assert response.model_version == "qwen3"
    assert response.candidates[0].parts == (
        core.TextPart("think", thought=True),
        core.TextPart("42"),
    )
    assert response.candidates[0].finish_reason is core.FinishReason.MAX_TOKENS


def test_gemini_request_from_core_is_camel_case_wire_json() -> None:
    request = core.GenerateRequest(
        "m",
        CONVERSATION,
        config=core.GenerationConfig(max_output_tokens=10, thinking=core.ThinkingConfig(budget=0)),
        tools=(WEATHER,),
    )
    body = gemini.encode_generate_request(request)
    assert body["generationConfig"] == {
        "maxOutputTokens": 10,
        "thinkingConfig": {"thinkingBudget": 0},
    }
    assert body["tools"] == [{"functionDeclarations": WEATHER.spec["functionDeclarations"]}]
    assert body["contents"][1]["parts"][1] == {
        "functionCall": {"name": "weather", "args": {"city": "Paris"}}
    }


def test_gemini_native_body_goes_upstream_as_it_came() -> None:
    native = {"contents": [{"parts": [{"text": "x", "futurePartField": 1}]}], "model": "a"}
    request = core.GenerateRequest("m", (), native=native)
    assert gemini.encode_generate_request(request) == {"contents": native["contents"]}


def test_gemini_chunk_keeps_unknown_parts_in_native_only() -> None:
    data = {
        "candidates": [
            {
                "content": {"parts": [{"text": "hi"}, {"newKindOfPart": {"x": 1}}]},
                "finishReason": "RECITATION",
            }
        ],
        "usageMetadata": {"promptTokenCount": 3, "cachedContentTokenCount": 2},
    }
    chunk = gemini.decode_chunk(data, "gemini-x")
    assert chunk.native is data
    assert chunk.model_version == "gemini-x"
    assert chunk.candidates[0].parts == (core.TextPart("hi"),)
    assert chunk.candidates[0].finish_reason is core.FinishReason.OTHER
    assert chunk.usage == core.Usage(prompt_tokens=3, cached_tokens=2)


def test_gemini_batch_embed_names_the_upstream_model_in_every_item() -> None:
    native = {"requests": [{"model": "models/public", "content": {"parts": [{"text": "a"}]}}]}
    request = core.EmbedRequest("public", (), native=native)
    body = gemini.encode_batch_embed_request("upstream-embed", request)
    assert body["requests"][0]["model"] == "models/upstream-embed"
    assert body["requests"][0]["content"] == {"parts": [{"text": "a"}]}
