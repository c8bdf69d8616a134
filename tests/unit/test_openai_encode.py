"""Golden fixtures: core responses and stream chunks -> OpenAI chat-completions JSON."""

from __future__ import annotations

import pytest

from gemgate.core import types as core
from gemgate.dialects.openai import encode

META = {"model_version": "local-model", "response_id": "r1", "create_time": 1700000000.5}


def response(*candidates: core.Candidate, usage: core.Usage | None = None) -> core.GenerateResponse:
    return core.GenerateResponse(candidates, usage or core.Usage(3, 2), **META)


def chunk(*candidates: core.Candidate, usage: core.Usage | None = None) -> core.StreamChunk:
    return core.StreamChunk(candidates, **META, usage=usage)


def test_a_completion_has_openais_shape() -> None:
    usage = core.Usage(prompt_tokens=3, candidates_tokens=2, cached_tokens=1, thoughts_tokens=4)
    candidate = core.Candidate(
        0,
        (core.TextPart("thinking…", thought=True), core.TextPart("hi")),
        core.FinishReason.STOP,
    )
    assert encode.encode_completion(response(candidate, usage=usage)) == {
        "id": "chatcmpl-r1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "local-model",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "hi",
                    "refusal": None,
                    "reasoning_content": "thinking…",
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 3,
            "completion_tokens": 6,
            "total_tokens": 9,
            "prompt_tokens_details": {"cached_tokens": 1},
            "completion_tokens_details": {"reasoning_tokens": 4},
        },
    }


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (core.FinishReason.STOP, "stop"),
        (core.FinishReason.MAX_TOKENS, "length"),
        (core.FinishReason.SAFETY, "content_filter"),
        (core.FinishReason.OTHER, "stop"),
    ],
)
def test_finish_reasons_map_to_openais(reason: core.FinishReason, expected: str) -> None:
    encoded = encode.encode_completion(response(core.Candidate(0, (core.TextPart("x"),), reason)))
    assert encoded["choices"][0]["finish_reason"] == expected


def test_tool_calls_carry_json_arguments_ids_and_signatures() -> None:
    candidate = core.Candidate(
        0,
        (
            core.TextPart(""),
            core.FunctionCallPart("weather", {"city": "Zürich"}, "call_a", b"sig"),
            core.FunctionCallPart("clock", {}),
        ),
        core.FinishReason.STOP,
    )
    choice = encode.encode_completion(response(candidate))["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"] == {
        "role": "assistant",
        "content": None,
        "refusal": None,
        "tool_calls": [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city": "Zürich"}'},
                "extra_content": {"google": {"thought_signature": "c2ln"}},
            },
            {
                "id": "call_r1_0_1",
                "type": "function",
                "function": {"name": "clock", "arguments": "{}"},
            },
        ],
    }


def test_text_without_tool_calls_is_kept_even_when_empty() -> None:
    candidate = core.Candidate(0, (core.TextPart(""),), core.FinishReason.MAX_TOKENS)
    assert encode.encode_completion(response(candidate))["choices"][0]["message"]["content"] == ""


def test_logprobs_use_openais_content_list() -> None:
    steps = (
        core.LogprobStep(
            core.TokenLogprob("é", 7, -0.5),
            (core.TokenLogprob("é", 7, -0.5), core.TokenLogprob("e", 8, -1.5)),
        ),
    )
    candidate = core.Candidate(0, (core.TextPart("é"),), core.FinishReason.STOP, steps)
    choice = encode.encode_completion(response(candidate))["choices"][0]
    assert choice["logprobs"] == {
        "content": [
            {
                "token": "é",
                "logprob": -0.5,
                "bytes": [195, 169],
                "top_logprobs": [
                    {"token": "é", "logprob": -0.5, "bytes": [195, 169]},
                    {"token": "e", "logprob": -1.5, "bytes": [101]},
                ],
            }
        ],
        "refusal": None,
    }


def test_every_candidate_becomes_a_choice() -> None:
    encoded = encode.encode_completion(
        response(
            core.Candidate(0, (core.TextPart("a"),), core.FinishReason.STOP),
            core.Candidate(1, (core.TextPart("b"),), core.FinishReason.MAX_TOKENS),
        )
    )
    assert [(c["index"], c["message"]["content"]) for c in encoded["choices"]] == [
        (0, "a"),
        (1, "b"),
    ]


def test_stream_chunks_carry_the_role_first_and_usage_last() -> None:
    encoder = encode.ChunkEncoder(include_usage=True)
    first = encoder.encode(chunk(core.Candidate(0, (core.TextPart("Hel"),))))
    middle = encoder.encode(chunk(core.Candidate(0, (core.TextPart("lo"),))))
    usage = core.Usage(prompt_tokens=3, candidates_tokens=2)
    last = encoder.encode(
        chunk(core.Candidate(0, (core.TextPart(""),), core.FinishReason.STOP), usage=usage)
    )
    envelope = {
        "id": "chatcmpl-r1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "local-model",
    }
    assert first == [
        {
            **envelope,
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": "Hel"},
                    "finish_reason": None,
                }
            ],
        }
    ]
    assert middle[0]["choices"] == [{"index": 0, "delta": {"content": "lo"}, "finish_reason": None}]
    assert last == [
        {**envelope, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {**envelope, "choices": [], "usage": encode.encode_usage(usage)},
    ]


def test_stream_usage_is_left_out_unless_asked_for() -> None:
    encoder = encode.ChunkEncoder(include_usage=False)
    done = chunk(
        core.Candidate(0, (core.TextPart("x"),), core.FinishReason.STOP), usage=core.Usage(1, 1)
    )
    payloads = encoder.encode(done)
    assert len(payloads) == 1 and "usage" not in payloads[0]


def test_each_streamed_choice_gets_its_own_role() -> None:
    encoder = encode.ChunkEncoder(include_usage=False)
    both = chunk(core.Candidate(0, (core.TextPart("a"),)), core.Candidate(1, (core.TextPart("b"),)))
    deltas = [c["delta"] for c in encoder.encode(both)[0]["choices"]]
    assert deltas == [
        {"role": "assistant", "content": "a"},
        {"role": "assistant", "content": "b"},
    ]


def test_streamed_tool_calls_are_indexed_and_finish_with_tool_calls() -> None:
    encoder = encode.ChunkEncoder(include_usage=False)
    first = encoder.encode(chunk(core.Candidate(0, (core.FunctionCallPart("f", {"a": 1}),))))
    second = encoder.encode(
        chunk(
            core.Candidate(
                0, (core.FunctionCallPart("g", {}, "id_g", b"s"),), core.FinishReason.STOP
            )
        )
    )
    assert first[0]["choices"][0]["delta"] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "index": 0,
                "id": "call_r1_0_0",
                "type": "function",
                "function": {"name": "f", "arguments": '{"a": 1}'},
            }
        ],
    }
    assert second[0]["choices"][0] == {
        "index": 0,
        "delta": {
            "tool_calls": [
                {
                    "index": 1,
                    "id": "id_g",
                    "type": "function",
                    "function": {"name": "g", "arguments": "{}"},
                    "extra_content": {"google": {"thought_signature": "cw=="}},
                }
            ]
        },
        "finish_reason": "tool_calls",
    }


def test_streamed_thoughts_travel_as_reasoning_content() -> None:
    encoder = encode.ChunkEncoder(include_usage=False)
    payload = encoder.encode(chunk(core.Candidate(0, (core.TextPart("hmm", thought=True),))))
    assert payload[0]["choices"][0]["delta"] == {
        "role": "assistant",
        "content": "",
        "reasoning_content": "hmm",
    }


def test_streamed_logprobs_ride_on_their_choice() -> None:
    encoder = encode.ChunkEncoder(include_usage=False)
    steps = (core.LogprobStep(core.TokenLogprob("a", 1, -0.25)),)
    payload = encoder.encode(chunk(core.Candidate(0, (core.TextPart("a"),), logprobs=steps)))
    assert payload[0]["choices"][0]["logprobs"] == encode.encode_logprobs(steps)


def test_models_have_openais_shape() -> None:
    info = core.ModelInfo(
        id="gemini-2.5-flash",
        display_name="x",
        description="",
        version="local",
        input_token_limit=4096,
        output_token_limit=2048,
        temperature=0.8,
        max_temperature=2.0,
        top_p=0.95,
        top_k=40,
    )
    assert encode.encode_model_list([info], created=5) == {
        "object": "list",
        "data": [
            {"id": "gemini-2.5-flash", "object": "model", "created": 5, "owned_by": "gemgate"}
        ],
    }
