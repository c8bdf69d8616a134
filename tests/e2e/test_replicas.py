"""Two gemgate processes behind one imaginary load balancer: they share one PostgreSQL
database, one Redis, one blob directory and one signing secret, and nothing else (each has its
own data dir). Whatever one replica answered, stored or signed, the other one honours."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from google import genai
from google.genai import errors, types

from tests.databases import REDIS_URL, fresh_postgres_database
from tests.serving import RunningServer, gemgate_server

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"
DOCUMENT = " ".join(
    f"Entry {i}: the ferry carried {i * 11} passengers and {i % 4} cars across the bay."
    for i in range(30)
)
WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Current weather for a city.",
    parameters=types.Schema(
        type=types.Type.OBJECT,
        properties={"city": types.Schema(type=types.Type.STRING)},
        required=["city"],
    ),
)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, ...]]:
    prefix = f"gemgate-test-{secrets.token_hex(6)}"
    shared = tmp_path_factory.mktemp("replicas-shared")
    with fresh_postgres_database() as database_url:
        env = {
            "GEMGATE_DATABASE_URL": database_url,
            "GEMGATE_REDIS_URL": REDIS_URL,
            "GEMGATE_REDIS_KEY_PREFIX": prefix,
            "GEMGATE_BLOB_DIR": str(shared / "blobs"),
            "GEMGATE_SIGNING_SECRET": secrets.token_hex(32),
            "GEMGATE_N_PARALLEL": "1",
            "GEMGATE_EMBEDDING_WARMUP": "false",
        }
        with (
            gemgate_server(tmp_path_factory.mktemp("replica-a"), env=env) as a,
            gemgate_server(tmp_path_factory.mktemp("replica-b"), env=env) as b,
        ):
            yield a, b
        _delete_redis_keys(prefix)


def _delete_redis_keys(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def client_for(server: RunningServer) -> genai.Client:
    return genai.Client(
        api_key="test-key", http_options=types.HttpOptions(base_url=server.url + "/gemini")
    )


def short() -> types.GenerateContentConfig:
    return types.GenerateContentConfig(max_output_tokens=4, temperature=0.0)


def test_an_answer_from_one_replica_is_a_cache_hit_on_the_other(
    replicas: tuple[RunningServer, RunningServer],
) -> None:
    a, b = (client_for(r) for r in replicas)
    contents = f"Repeat after me: shared cache probe {secrets.token_hex(4)}."
    first = a.models.generate_content(model=MODEL, contents=contents, config=short())
    assert first.usage_metadata and first.usage_metadata.prompt_token_count
    assert first.usage_metadata.cached_content_token_count != (
        first.usage_metadata.prompt_token_count
    )
    again = b.models.generate_content(model=MODEL, contents=contents, config=short())
    usage = again.usage_metadata
    assert usage and usage.cached_content_token_count == usage.prompt_token_count
    assert again.text == first.text


def test_a_file_uploaded_through_one_replica_is_used_through_the_other(
    replicas: tuple[RunningServer, RunningServer], tmp_path: Path
) -> None:
    a, b = (client_for(r) for r in replicas)
    path = tmp_path / "ferry.txt"
    path.write_text(DOCUMENT)
    uploaded = a.files.upload(file=path)
    assert uploaded.name
    assert b.files.get(name=uploaded.name).sha256_hash == uploaded.sha256_hash
    assert uploaded.name in {f.name for f in b.files.list()}
    downloaded = httpx.get(
        f"{replicas[1].url}/v1beta/{uploaded.name}:download", params={"alt": "media"}
    )
    assert downloaded.status_code == 200 and downloaded.content == path.read_bytes()
    question = "How many cars on entry 3?"
    alone = b.models.count_tokens(model=MODEL, contents=question).total_tokens
    part = types.Part.from_uri(file_uri=uploaded.uri or "", mime_type="text/plain")
    with_file = b.models.count_tokens(model=MODEL, contents=[part, question]).total_tokens
    assert alone and with_file and with_file > alone + 300  # B read the document's text


def test_an_upload_started_on_one_replica_finishes_on_the_other(
    replicas: tuple[RunningServer, RunningServer],
) -> None:
    a, b = replicas
    data = DOCUMENT.encode() * 3
    start = httpx.post(
        f"{a.url}/upload/v1beta/files",
        headers={
            "X-Goog-Upload-Protocol": "resumable",
            "X-Goog-Upload-Command": "start",
            "X-Goog-Upload-Header-Content-Length": str(len(data)),
            "X-Goog-Upload-Header-Content-Type": "text/plain",
        },
        json={"file": {"displayName": "split"}},
    )
    assert start.status_code == 200, start.text
    url_a = start.headers["X-Goog-Upload-URL"]
    half = len(data) // 2
    first = httpx.post(
        url_a,
        content=data[:half],
        headers={"X-Goog-Upload-Command": "upload", "X-Goog-Upload-Offset": "0"},
    )
    assert first.status_code == 200, first.text
    url_b = url_a.replace(a.url, b.url)
    last = httpx.post(
        url_b,
        content=data[half:],
        headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": str(half)},
    )
    assert last.status_code == 200, last.text
    name = last.json()["file"]["name"]
    downloaded = httpx.get(f"{a.url}/v1beta/{name}:download", params={"alt": "media"})
    assert downloaded.content == data


def test_a_cache_created_on_one_replica_is_listed_and_used_on_the_other(
    replicas: tuple[RunningServer, RunningServer],
) -> None:
    a, b = (client_for(r) for r in replicas)
    cache = a.caches.create(
        model=MODEL,
        config=types.CreateCachedContentConfig(
            contents=[DOCUMENT], system_instruction="Answer from the log.", ttl="300s"
        ),
    )
    assert cache.name and cache.name in {c.name for c in b.caches.list()}
    answer = b.models.generate_content(
        model=MODEL,
        contents="How many passengers on entry 2?",
        config=types.GenerateContentConfig(
            cached_content=cache.name, max_output_tokens=4, temperature=0.0
        ),
    )
    assert answer.usage_metadata and answer.usage_metadata.prompt_token_count
    total = cache.usage_metadata.total_token_count if cache.usage_metadata else 0
    assert total and answer.usage_metadata.prompt_token_count > total
    b.caches.delete(name=cache.name)
    with pytest.raises(errors.ClientError) as caught:
        a.caches.get(name=cache.name)
    assert caught.value.code == 404


def _call_then_reply(
    calling: genai.Client, checking: genai.Client, tamper: bool
) -> types.GenerateContentResponse:
    question = types.Content(role="user", parts=[types.Part(text="Weather in Oslo?")])
    forced = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[WEATHER])],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(mode="ANY")
        ),
        temperature=0.0,
        max_output_tokens=40,
    )
    first = calling.models.generate_content(model=MODEL, contents=[question], config=forced)
    assert first.candidates and first.candidates[0].content
    turn = first.candidates[0].content.model_copy(deep=True)
    assert turn.parts and turn.parts[0].function_call and turn.parts[0].thought_signature
    if tamper:
        turn.parts[0].function_call.args = {"city": "Somewhere else entirely"}
    reply = types.Content(
        role="user",
        parts=[types.Part.from_function_response(name="get_weather", response={"result": "snow"})],
    )
    return checking.models.generate_content(
        model=MODEL,
        contents=[question, turn, reply],
        config=types.GenerateContentConfig(
            tools=[types.Tool(function_declarations=[WEATHER])],
            tool_config=types.ToolConfig(
                function_calling_config=types.FunctionCallingConfig(mode="NONE")
            ),
            max_output_tokens=4,
            temperature=0.0,
        ),
    )


def test_a_call_signed_by_one_replica_verifies_on_the_other(
    replicas: tuple[RunningServer, RunningServer],
) -> None:
    a, b = (client_for(r) for r in replicas)
    assert _call_then_reply(a, b, tamper=False).candidates
    with pytest.raises(errors.ClientError) as caught:
        _call_then_reply(a, b, tamper=True)  # B really checks: a changed call is refused
    assert caught.value.code == 400 and "thoughtSignature" in str(caught.value.message)
