"""Bad input on OpenAI routes: OpenAI's envelope, the status the SDK types by, the param named."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from tests.serving import RunningServer, gemgate_server

pytestmark = pytest.mark.e2e

CHAT = "/v1/chat/completions"
OK_BODY: dict[str, Any] = {
    "model": "gemini-2.5-flash",
    "messages": [{"role": "user", "content": "Hi"}],
    "max_tokens": 2,
}


def post(server: RunningServer, path: str, content: bytes | str) -> httpx.Response:
    headers = {"content-type": "application/json", "authorization": "Bearer x"}
    return httpx.post(server.url + path, content=content, headers=headers, timeout=60)


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    return error


def test_malformed_json_is_a_400_invalid_request(server: RunningServer) -> None:
    response = post(server, CHAT, b'{"model": ')
    assert response.status_code == 400
    assert error_of(response)["type"] == "invalid_request_error"


def test_a_missing_parameter_is_named(server: RunningServer) -> None:
    response = post(server, CHAT, json.dumps({"model": "gemini-2.5-flash"}))
    assert response.status_code == 400
    assert error_of(response)["param"] == "messages"


def test_an_out_of_range_value_is_named(server: RunningServer) -> None:
    response = post(server, CHAT, json.dumps({**OK_BODY, "temperature": 5}))
    assert response.status_code == 400
    assert error_of(response)["param"] == "temperature"


def test_unknown_fields_are_ignored(server: RunningServer) -> None:
    body = {**OK_BODY, "store": False, "metadata": {"a": "b"}, "prediction": None}
    response = post(server, "/v1beta/openai/chat/completions", json.dumps(body))
    assert response.status_code == 200, response.text


def test_a_pipeline_refusal_names_the_openai_parameter(server: RunningServer) -> None:
    response = post(server, CHAT, json.dumps({**OK_BODY, "max_tokens": 100000}))
    assert response.status_code == 400
    assert error_of(response)["param"] == "max_tokens"


def test_an_unknown_embedding_model_is_404_in_openais_envelope(server: RunningServer) -> None:
    response = post(server, "/v1/embeddings", json.dumps({"model": "m", "input": "x"}))
    assert response.status_code == 404
    assert error_of(response)["type"] == "not_found_error"


def test_gemini_routes_keep_googles_envelope_for_bearer_callers(server: RunningServer) -> None:
    response = post(server, "/v1beta/models/no-such-model:generateContent", b"{}")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"


def test_the_sdk_raises_typed_errors(oai: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        oai.chat.completions.create(model="gemini-2.5-flash", messages=[], max_tokens=2)
    assert bad.value.param == "messages"
    with pytest.raises(openai.NotFoundError) as missing:
        oai.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "Hi"}]
        )
    assert missing.value.code == "model_not_found"


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str]]:
    with gemgate_server(tmp_path_factory.mktemp("gemgate-openai-auth")) as running:
        created = running.cli("keys", "create", "--project", "p")
        assert created.returncode == 0, created.stderr
        fields = dict(line.split(":", 1) for line in created.stdout.splitlines() if ":" in line)
        yield running, fields["key"].strip()


def test_a_wrong_key_is_an_authentication_error(keyed_server: tuple[RunningServer, str]) -> None:
    server, key = keyed_server
    wrong = OpenAI(base_url=server.url + "/v1beta/openai/", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        wrong.models.list()
    assert caught.value.code == "invalid_api_key"
    right = OpenAI(base_url=server.url + "/v1beta/openai/", api_key=key, max_retries=0)
    assert list(right.models.list())


def test_a_missing_key_is_a_401(keyed_server: tuple[RunningServer, str]) -> None:
    server, _ = keyed_server
    response = httpx.post(server.url + CHAT, json=OK_BODY, timeout=60)
    assert response.status_code == 401
    assert error_of(response)["type"] == "authentication_error"
