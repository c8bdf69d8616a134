"""Bad input over raw HTTP: Google's envelope, the right status, the field named, never a 5xx."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.serving import RunningServer

pytestmark = pytest.mark.e2e

GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"
OK_BODY = {"contents": [{"parts": [{"text": "Hi"}]}], "generationConfig": {"maxOutputTokens": 2}}


def post(server: RunningServer, path: str, content: bytes | str) -> httpx.Response:
    return httpx.post(
        server.url + path,
        content=content,
        headers={"content-type": "application/json"},
        timeout=60,
    )


def error_of(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, object] = body["error"]
    assert error["code"] == response.status_code
    assert isinstance(error["message"], str) and error["message"]
    return error


def test_malformed_json_is_invalid_argument(server: RunningServer) -> None:
    response = post(server, GENERATE, b'{"contents": [')
    assert response.status_code == 400
    assert error_of(response)["status"] == "INVALID_ARGUMENT"


def test_unknown_field_is_named(server: RunningServer) -> None:
    body = {**OK_BODY, "generationConfig": {"maxOutputTokens": 2, "temprature": 1}}
    response = post(server, GENERATE, json.dumps(body))
    assert response.status_code == 400
    message = str(error_of(response)["message"])
    assert 'Unknown name "temprature"' in message and "generationConfig" in message


def test_snake_case_fields_are_accepted_at_any_depth(server: RunningServer) -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
        "system_instruction": {"parts": [{"text": "Be brief."}]},
        "generation_config": {"max_output_tokens": 2, "stop_sequences": ["zzz"], "top_k": 3.0},
    }
    response = post(server, GENERATE, json.dumps(body))
    assert response.status_code == 200, response.text


def test_empty_contents_is_invalid_argument(server: RunningServer) -> None:
    response = post(server, GENERATE, json.dumps({"contents": []}))
    assert response.status_code == 400
    assert "contents" in str(error_of(response)["message"])


def test_too_many_stop_sequences_is_invalid_argument(server: RunningServer) -> None:
    body = {**OK_BODY, "generationConfig": {"stopSequences": list("abcdef")}}
    response = post(server, GENERATE, json.dumps(body))
    assert response.status_code == 400
    assert "stopSequences" in str(error_of(response)["message"])


def test_body_over_the_inline_limit_is_refused(server: RunningServer) -> None:
    big = "x" * (21 * 1024 * 1024)
    response = post(server, GENERATE, json.dumps({"contents": [{"parts": [{"text": big}]}]}))
    assert response.status_code == 400
    assert "Files API" in str(error_of(response)["message"])


def test_context_overflow_is_invalid_argument(server: RunningServer) -> None:
    text = "word " * 6000
    response = post(server, GENERATE, json.dumps({"contents": [{"parts": [{"text": text}]}]}))
    assert response.status_code == 400
    assert "exceeds the maximum number of tokens" in str(error_of(response)["message"])


def test_context_overflow_on_a_stream_is_a_plain_http_error(server: RunningServer) -> None:
    text = "word " * 6000
    response = post(
        server,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        json.dumps({"contents": [{"parts": [{"text": text}]}]}),
    )
    assert response.status_code == 400
    assert error_of(response)["status"] == "INVALID_ARGUMENT"


def test_unknown_method_is_not_found(server: RunningServer) -> None:
    response = post(server, "/v1beta/models/gemini-2.5-flash:fooBar", json.dumps(OK_BODY))
    assert response.status_code == 404
    assert error_of(response)["status"] == "NOT_FOUND"


def test_unknown_path_is_not_found_in_google_envelope(server: RunningServer) -> None:
    response = httpx.get(server.url + "/v1beta/nothing-here", timeout=10)
    assert response.status_code == 404
    assert error_of(response)["status"] == "NOT_FOUND"


def test_stream_without_alt_is_a_json_array(server: RunningServer) -> None:
    response = post(
        server, "/v1/models/gemini-2.5-flash:streamGenerateContent", json.dumps(OK_BODY)
    )
    assert response.status_code == 200
    items = response.json()
    assert isinstance(items, list) and items
    assert "usageMetadata" in items[-1]


def test_sse_framing_is_only_data_lines(server: RunningServer) -> None:
    response = post(
        server, "/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse", json.dumps(OK_BODY)
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    lines = [line for line in response.text.split("\r\n") if line]
    assert lines and all(line.startswith("data: {") for line in lines)


def test_bad_page_token_is_invalid_argument(server: RunningServer) -> None:
    response = httpx.get(server.url + "/v1beta/models?pageToken=%%%", timeout=10)
    assert response.status_code == 400


@pytest.mark.parametrize("prefix", ["", "/gemini"])
@pytest.mark.parametrize("version", ["/v1", "/v1beta", "/v1alpha", ""])
def test_model_actions_answer_under_every_prefix_and_version(
    server: RunningServer, prefix: str, version: str
) -> None:
    base = f"{prefix}{version}/models/gemini-2.5-flash"
    contents = json.dumps({"contents": OK_BODY["contents"]})
    counted = post(server, f"{base}:countTokens", contents)
    assert counted.status_code == 200 and counted.json()["totalTokens"] > 0
    described = httpx.get(server.url + base, timeout=60)  # GET still describes the model
    assert described.status_code == 200 and described.json()["name"] == "models/gemini-2.5-flash"
    unknown = post(server, f"{base}:noSuchMethod", json.dumps(OK_BODY))
    assert unknown.status_code == 404 and error_of(unknown)["status"] == "NOT_FOUND"


def test_paths_beside_the_model_actions_are_not_taken_for_them(server: RunningServer) -> None:
    # The OpenAI dialect's prefix and deeper paths are not Gemini model actions.
    for path in ("/v1beta/openai/models/x:countTokens", "/v1beta/models/a/b:countTokens"):
        response = post(server, path, json.dumps(OK_BODY))
        assert response.status_code == 404, path
