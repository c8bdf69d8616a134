"""Models in OpenAI's shape, and GET /v1/models answering in the dialect its caller speaks."""

from __future__ import annotations

import httpx
import openai
import pytest
from google import genai
from openai import OpenAI

from tests.serving import RunningServer

pytestmark = pytest.mark.e2e


def test_models_list_in_openais_shape(oai: OpenAI) -> None:
    models = list(oai.models.list())
    ids = [m.id for m in models]
    assert "gemini-2.5-flash" in ids and "smollm2-135m-instruct" in ids
    assert all(m.object == "model" and m.owned_by and m.created > 0 for m in models)


def test_a_model_is_retrieved_by_id(oai: OpenAI) -> None:
    model = oai.models.retrieve("gemini-2.5-flash")
    assert model.id == "gemini-2.5-flash" and model.object == "model"


def test_an_unknown_model_is_not_found(oai: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        oai.models.retrieve("no-such-model")
    assert caught.value.code == "model_not_found"


def test_root_models_answer_google_callers_in_geminis_shape(server: RunningServer) -> None:
    google = httpx.get(server.url + "/v1/models", headers={"x-goog-api-key": "k"})
    assert "models" in google.json() and "object" not in google.json()
    by_query = httpx.get(server.url + "/v1/models/gemini-2.5-flash", params={"key": "k"})
    assert by_query.json()["name"] == "models/gemini-2.5-flash"


def test_root_models_answer_bearer_callers_in_openais_shape(server: RunningServer) -> None:
    bearer = {"authorization": "Bearer k"}
    listed = httpx.get(server.url + "/v1/models", headers=bearer).json()
    assert listed["object"] == "list" and listed["data"]
    one = httpx.get(server.url + "/v1/models/gemini-2.5-flash", headers=bearer).json()
    assert one == {**one, "id": "gemini-2.5-flash", "object": "model"}


def test_a_google_key_wins_over_a_bearer_token(server: RunningServer) -> None:
    headers = {"authorization": "Bearer k", "x-goog-api-key": "k"}
    assert "models" in httpx.get(server.url + "/v1/models", headers=headers).json()


def test_errors_on_root_models_follow_the_caller(server: RunningServer) -> None:
    url = server.url + "/v1/models/no-such-model"
    google = httpx.get(url, headers={"x-goog-api-key": "k"}).json()["error"]
    assert google["status"] == "NOT_FOUND"
    bearer = httpx.get(url, headers={"authorization": "Bearer k"}).json()["error"]
    assert bearer["type"] == "not_found_error" and bearer["code"] == "model_not_found"


def test_google_openai_path_is_always_openai(server: RunningServer) -> None:
    listed = httpx.get(server.url + "/v1beta/openai/models").json()
    assert listed["object"] == "list"


def test_google_genai_still_lists_models_at_v1(server: RunningServer) -> None:
    client = genai.Client(
        api_key="k", http_options=genai.types.HttpOptions(base_url=server.url, api_version="v1")
    )
    assert any(m.name == "models/gemini-2.5-flash" for m in client.models.list())
