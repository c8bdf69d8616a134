"""Implicit and explicit caching through the real SDK; cached tokens are skipped prefill."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from google import genai
from google.genai import errors, types

from tests.serving import RunningServer, gemgate_server

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"
DOCUMENT = " ".join(
    f"Section {i}: the lighthouse keeper logged {i * 7} ships and {i % 5} storms that week."
    for i in range(40)
)


def short(**extra: object) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(max_output_tokens=4, temperature=0.0, **extra)  # type: ignore[arg-type]


def test_a_repeated_request_is_served_from_cache(gemini: genai.Client) -> None:
    contents = "Repeat after me: exact cache probe."
    first = gemini.models.generate_content(model=MODEL, contents=contents, config=short())
    again = gemini.models.generate_content(model=MODEL, contents=contents, config=short())
    usage = again.usage_metadata
    assert usage and usage.cached_content_token_count == usage.prompt_token_count
    assert usage.cache_tokens_details and usage.cache_tokens_details[0].token_count == (
        usage.cached_content_token_count
    )
    assert again.text == first.text


def test_a_new_question_after_the_same_document_reuses_its_prefix(gemini: genai.Client) -> None:
    config = types.GenerateContentConfig(max_output_tokens=4, temperature=0.7)
    gemini.models.generate_content(
        model=MODEL, contents=[DOCUMENT, "How many ships in section 3?"], config=config
    )
    second = gemini.models.generate_content(
        model=MODEL, contents=[DOCUMENT, "Which section had the most storms?"], config=config
    )
    usage = second.usage_metadata
    assert usage and usage.prompt_token_count and usage.cached_content_token_count
    assert usage.cached_content_token_count >= usage.prompt_token_count / 2


def create_cache(client: genai.Client, ttl: str = "300s") -> types.CachedContent:
    return client.caches.create(
        model=MODEL,
        config=types.CreateCachedContentConfig(
            contents=[DOCUMENT],
            system_instruction="Answer from the logbook.",
            display_name="logbook",
            ttl=ttl,
        ),
    )


def test_cache_lifecycle_and_use(gemini: genai.Client) -> None:
    cache = create_cache(gemini)
    assert cache.name and cache.name.startswith("cachedContents/")
    assert cache.display_name == "logbook" and cache.model == f"models/{MODEL}"
    total = cache.usage_metadata.total_token_count if cache.usage_metadata else None
    assert total and total > 300
    assert cache.expire_time and cache.create_time

    assert gemini.caches.get(name=cache.name).name == cache.name
    assert cache.name in [c.name for c in gemini.caches.list(config={"page_size": 2})]

    updated = gemini.caches.update(
        name=cache.name, config=types.UpdateCachedContentConfig(ttl="7200s")
    )
    assert updated.expire_time and cache.expire_time and updated.expire_time > cache.expire_time

    response = gemini.models.generate_content(
        model=MODEL,
        contents="How many storms in section 2?",
        config=short(cached_content=cache.name),
    )
    usage = response.usage_metadata
    assert usage and usage.cached_content_token_count == total
    assert usage.prompt_token_count and usage.prompt_token_count > total

    gemini.caches.delete(name=cache.name)
    with pytest.raises(errors.ClientError) as raised:
        gemini.models.generate_content(
            model=MODEL, contents="Again?", config=short(cached_content=cache.name)
        )
    assert raised.value.code == 404


def test_an_expired_cache_is_rejected(gemini: genai.Client) -> None:
    cache = create_cache(gemini, ttl="1s")
    time.sleep(1.5)
    with pytest.raises(errors.ClientError) as raised:
        gemini.models.generate_content(
            model=MODEL, contents="Still there?", config=short(cached_content=cache.name)
        )
    assert raised.value.code == 404
    with pytest.raises(errors.ClientError):
        gemini.caches.get(name=cache.name or "")


def test_a_cache_is_used_only_with_its_model(gemini: genai.Client) -> None:
    cache = create_cache(gemini)
    with pytest.raises(errors.ClientError) as raised:
        gemini.models.generate_content(
            model="gemini-2.0-flash", contents="x", config=short(cached_content=cache.name)
        )
    assert raised.value.code == 400


def test_a_too_small_cache_is_refused(gemini: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as raised:
        gemini.caches.create(model=MODEL, config=types.CreateCachedContentConfig(contents=["tiny"]))
    assert raised.value.code == 400 and "too small" in (raised.value.message or "")


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with gemgate_server(tmp_path_factory.mktemp("gemgate-cache-keys")) as running:
        yield running


def key_for(server: RunningServer, project: str) -> str:
    result = server.cli("keys", "create", "--project", project)
    assert result.returncode == 0, result.stderr
    return next(
        line.split(":", 1)[1].strip()
        for line in result.stdout.splitlines()
        if line.startswith("key:")
    )


def test_another_project_cannot_see_or_use_a_cache(keyed_server: RunningServer) -> None:
    base = types.HttpOptions(base_url=keyed_server.url)
    owner = genai.Client(api_key=key_for(keyed_server, "alpha"), http_options=base)
    other = genai.Client(api_key=key_for(keyed_server, "beta"), http_options=base)
    cache = create_cache(owner)
    assert cache.name
    assert cache.name not in [c.name for c in other.caches.list()]
    for attempt in (
        lambda: other.caches.get(name=cache.name or ""),
        lambda: other.caches.delete(name=cache.name or ""),
        lambda: other.models.generate_content(
            model=MODEL, contents="x", config=short(cached_content=cache.name)
        ),
    ):
        with pytest.raises(errors.ClientError) as raised:
            attempt()
        assert raised.value.code == 404
    assert owner.caches.get(name=cache.name).name == cache.name


def test_a_cache_survives_a_restart_without_prefilling_again(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data_dir = tmp_path_factory.mktemp("gemgate-cache-restart")
    with gemgate_server(data_dir) as first:
        client = genai.Client(api_key="x", http_options=types.HttpOptions(base_url=first.url))
        cache = create_cache(client)
        total = cache.usage_metadata.total_token_count if cache.usage_metadata else None
    assert total and list((data_dir / "kv").rglob("cache-*.bin"))
    with gemgate_server(data_dir) as second:
        client = genai.Client(api_key="x", http_options=types.HttpOptions(base_url=second.url))
        response = client.models.generate_content(
            model=MODEL, contents="Which day?", config=short(cached_content=cache.name)
        )
        usage = response.usage_metadata
        assert usage and usage.cached_content_token_count == total
        client.caches.delete(name=cache.name or "")
    assert not list((data_dir / "kv").rglob("cache-*.bin"))


def test_a_cache_can_hold_an_uploaded_file(gemini: genai.Client, tmp_path: Path) -> None:
    path = tmp_path / "logbook.txt"
    path.write_text(DOCUMENT)
    uploaded = gemini.files.upload(file=path, config={"mime_type": "text/plain"})
    cache = gemini.caches.create(
        model=MODEL,
        config=types.CreateCachedContentConfig(contents=[uploaded], ttl="300s"),
    )
    total = cache.usage_metadata.total_token_count if cache.usage_metadata else None
    assert total and total > 300
    gemini.files.delete(name=uploaded.name or "")  # the cache keeps what the model reads
    response = gemini.models.generate_content(
        model=MODEL, contents="Which day?", config=short(cached_content=cache.name)
    )
    assert response.usage_metadata
    assert response.usage_metadata.cached_content_token_count == total
