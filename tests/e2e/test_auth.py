"""Keys end to end: the CLI creates and revokes them, a running server enforces them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from google import genai
from google.genai import errors, types

from tests.serving import RunningServer, gemgate_server, run_cli

pytestmark = pytest.mark.e2e

MODELS = "/v1beta/models"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with gemgate_server(tmp_path_factory.mktemp("gemgate-auth")) as running:
        yield running


def created_key(server: RunningServer, project: str) -> tuple[str, str]:
    result = server.cli("keys", "create", "--project", project)
    assert result.returncode == 0, result.stderr
    fields = dict(line.split(":", 1) for line in result.stdout.splitlines() if ":" in line)
    return fields["id"].strip(), fields["key"].strip()


def test_keys_are_enforced_once_one_exists(auth_server: RunningServer) -> None:
    url = auth_server.url + MODELS
    assert httpx.get(url, headers={"x-goog-api-key": "anything"}).status_code == 200

    key_id, key = created_key(auth_server, "alpha")
    missing = httpx.get(url)
    assert missing.status_code == 403 and missing.json()["error"]["status"] == "PERMISSION_DENIED"
    wrong = httpx.get(url, headers={"x-goog-api-key": "sk-wrong"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"

    assert httpx.get(url, headers={"x-goog-api-key": key}).status_code == 200
    assert httpx.get(url, params={"key": key}).status_code == 200
    assert httpx.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 200

    listed = auth_server.cli("keys", "list", "--json")
    assert key_id in listed.stdout and key not in listed.stdout

    assert auth_server.cli("keys", "revoke", key_id).returncode == 0
    assert httpx.get(url, headers={"x-goog-api-key": key}).status_code == 400


def test_the_sdk_authenticates_with_a_created_key(auth_server: RunningServer) -> None:
    _, key = created_key(auth_server, "beta")
    base = types.HttpOptions(base_url=auth_server.url + "/gemini")
    good = genai.Client(api_key=key, http_options=base)
    response = good.models.generate_content(
        model="gemini-2.5-flash",
        contents="Hi",
        config=types.GenerateContentConfig(max_output_tokens=2),
    )
    assert response.text is not None
    bad = genai.Client(api_key="sk-not-a-key", http_options=base)
    with pytest.raises(errors.ClientError) as raised:
        bad.models.list()
    assert raised.value.code == 400


def test_serving_beyond_loopback_without_keys_is_refused(tmp_path: Path) -> None:
    result = run_cli("serve", "--host", "0.0.0.0", "--port", "1", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert "--no-auth" in result.stderr


def test_without_an_admin_key_the_admin_api_does_not_exist(auth_server: RunningServer) -> None:
    reply = httpx.get(auth_server.url + "/admin/v1/keys", headers={"x-admin-key": ""})
    assert reply.status_code == 404 and reply.json()["error"]["status"] == "NOT_FOUND"
