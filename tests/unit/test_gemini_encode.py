from __future__ import annotations

from gemgate.core import types as core
from gemgate.core.errors import InvalidArgument, NotFound, PermissionDenied
from gemgate.dialects.gemini import encode
from gemgate.dialects.gemini.errors import error_body


def test_response_shape_is_googles() -> None:
    response = core.GenerateResponse(
        candidates=(core.Candidate(0, (core.TextPart("hi"),), core.FinishReason.STOP),),
        usage=core.Usage(prompt_tokens=3, candidates_tokens=1, cached_tokens=2),
        model_version="local-model",
        response_id="r1",
        create_time=0.0,
    )
    assert encode.encode_response(response) == {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "hi"}]},
                "index": 0,
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 3,
            "candidatesTokenCount": 1,
            "totalTokenCount": 4,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 3}],
            "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 1}],
            "cachedContentTokenCount": 2,
            "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 2}],
        },
        "modelVersion": "local-model",
        "responseId": "r1",
        "createTime": "1970-01-01T00:00:00.000000Z",
    }


def test_a_candidate_without_parts_still_carries_one_part() -> None:
    encoded = encode.encode_candidate(core.Candidate(0, ()))
    assert encoded["content"]["parts"] == [{"text": ""}]


def test_logprobs_result_and_average() -> None:
    steps = (
        core.LogprobStep(core.TokenLogprob("a", 1, -1.0), (core.TokenLogprob("a", 1, -1.0),)),
        core.LogprobStep(core.TokenLogprob("b", 2, -3.0), ()),
    )
    encoded = encode.encode_candidate(core.Candidate(0, (core.TextPart("ab"),), logprobs=steps))
    assert encoded["avgLogprobs"] == -2.0
    assert encoded["logprobsResult"]["chosenCandidates"][1] == {
        "token": "b",
        "tokenId": 2,
        "logProbability": -3.0,
    }
    assert encoded["logprobsResult"]["logProbabilitySum"] == -4.0


def test_thought_signature_is_standard_base64() -> None:
    part = core.TextPart("x", thought=True, thought_signature=b"signature")
    assert encode.encode_part(part) == {
        "text": "x",
        "thought": True,
        "thoughtSignature": "c2lnbmF0dXJl",
    }


def test_error_envelope_is_pinned() -> None:
    assert error_body(NotFound("models/x is not found.")) == {
        "error": {
            "code": 404,
            "message": "models/x is not found.",
            "status": "NOT_FOUND",
            "details": [],
        }
    }
    body = error_body(InvalidArgument("bad", field="generationConfig.topP"))
    assert body["error"]["code"] == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
    assert body["error"]["details"][0]["fieldViolations"] == [
        {"field": "generationConfig.topP", "description": "bad"}
    ]
    assert error_body(PermissionDenied("no"))["error"]["code"] == 403


def test_invalid_key_carries_googles_reason() -> None:
    body = error_body(InvalidArgument("API key not valid.", field="key"))
    assert body["error"]["details"][0]["reason"] == "API_KEY_INVALID"
