"""Relays end to end: the real google-genai and openai SDKs -> gemgate -> a loopback upstream.

The upstream is a real HTTP server speaking Google's and OpenAI's protocols (tests/upstreams.py);
each deployment in gemgate's routing table is a path prefix on it, so every test owns its own
deployments and the router's health state of one test cannot leak into another.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from google import genai
from google.genai import errors, types
from openai import OpenAI

from tests.e2e.accounts import ADMIN_KEY, ledger_rows, make_key
from tests.serving import RunningServer, gemgate_server
from tests.upstreams import SIGNATURE, FakeUpstream, Fault, running_upstream, service_account

pytestmark = pytest.mark.e2e

UPSTREAM_KEY = "upstream-secret-key"


def _gemini(name: str, fake: FakeUpstream, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": "gemini", "base_url": fake.base(name), "api_key": UPSTREAM_KEY}


def _config(fake: FakeUpstream, key_file: Path) -> dict[str, Any]:
    names = [
        "g1",
        "g2",
        "g3",
        "g4",
        "g5",
        "g6",
        "g7",
        "g8",
        "g9",
        "g10",
        "g11",
        "g12",
        "g13",
        "g14",
    ]
    deployments = [_gemini(n, fake) for n in names]
    deployments[3]["timeout_seconds"] = 1.0  # g4 hangs
    deployments[5]["max_concurrency"] = 2  # g6 is limited
    deployments += [
        {"name": n, "kind": "openai", "base_url": fake.base(n) + "/v1", "api_key": UPSTREAM_KEY}
        for n in ("o1", "o2", "o3")
    ]
    deployments.append(
        {
            "name": "v1",
            "kind": "vertex",
            "base_url": fake.base("v1"),
            "project": "fake-project",
            "location": "europe-west4",
            "credentials_file": str(key_file),
        }
    )

    def route(*targets: tuple[str, int], model: str | None = None) -> list[dict[str, Any]]:
        return [{"deployment": d, "priority": p, "model": model} for d, p in targets]

    routes = {
        "gemini-2.5-flash": route(("g1", 0)),
        "gemini-embedding-001": route(("g1", 0)),
        "failover-500": route(("g2", 0), ("g3", 1), model="up-model"),
        "failover-hang": route(("g4", 0), ("g3", 1), model="up-model"),
        "retry-after": route(("g5", 0), model="up-model"),
        "limited": route(("g6", 0), model="up-model"),
        "ejection": route(("g7", 0), ("g8", 1), model="up-model"),
        "midstream": route(("g9", 0), ("g10", 1), model="up-model"),
        "gpu-cluster": route(("o1", 0), model="llama-3-8b"),
        "gpu-failover": route(("o2", 0), ("o3", 1), model="llama-3-8b"),
        "text-embedding-3-small": route(("o1", 0)),
        "vertex-flash": route(("v1", 0), model="gemini-2.5-flash"),
        "cached-model": route(("g11", 0), ("g12", 0), model="up-model"),
        "files-model": route(("g13", 0), ("g14", 0), model="up-model"),
    }
    retry = {
        "max_attempts": 3,
        "backoff_initial_seconds": 0.05,
        "backoff_max_seconds": 0.2,
        "eject_after_failures": 2,
        "eject_seconds": 2.0,
    }
    return {"deployments": deployments, "routes": routes, "retry": retry}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeUpstream]:
    with running_upstream() as upstream:
        yield upstream


@pytest.fixture(scope="module")
def relay(fake: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("gemgate-relay")
    info, public_key = service_account(fake.base("v1") + "/token")
    fake.public_key = public_key
    key_file = data_dir / "service-account.json"
    key_file.write_text(json.dumps(info))
    config = data_dir / "relay.json"
    config.write_text(json.dumps(_config(fake, key_file)))
    env = {
        "GEMGATE_EMBEDDING_WARMUP": "false",
        "GEMGATE_N_PARALLEL": "1",
        "GEMGATE_ADMIN_KEY": ADMIN_KEY,
        "GEMGATE_LEDGER_FLUSH_MS": "50",
    }
    with gemgate_server(data_dir, env=env, extra_args=["--config", str(config)]) as server:
        yield server


@pytest.fixture(scope="module")
def caller(relay: RunningServer) -> tuple[str, str]:
    """A gemgate key (id, secret): relayed requests are authenticated and metered too."""
    return make_key(relay.url)


@pytest.fixture(scope="module")
def client(relay: RunningServer, caller: tuple[str, str]) -> genai.Client:
    return genai.Client(
        api_key=caller[1], http_options=types.HttpOptions(base_url=relay.url + "/gemini")
    )


@pytest.fixture(scope="module")
def direct(fake: FakeUpstream) -> genai.Client:
    """The same SDK talking to the upstream itself, for what gemgate must not change."""
    return genai.Client(
        api_key=UPSTREAM_KEY,
        http_options=types.HttpOptions(base_url=fake.base("direct"), api_version="v1beta"),
    )


@pytest.fixture(scope="module")
def oai(relay: RunningServer, caller: tuple[str, str]) -> Iterator[OpenAI]:
    with OpenAI(base_url=relay.url + "/v1", api_key=caller[1], max_retries=0) as client:
        yield client


RICH_CONTENTS = [
    types.Content(
        role="user",
        parts=[types.Part(text="What is the weather?"), types.Part(text="In Paris.")],
    ),
    types.Content(
        role="model",
        parts=[
            types.Part(text="I should call a tool.", thought=True),
            types.Part(
                function_call=types.FunctionCall(name="weather", args={"city": "Paris"}),
                thought_signature=b"\x00\xffopaque-signature\x10",
            ),
        ],
    ),
    types.Content(
        role="user",
        parts=[
            types.Part(
                function_response=types.FunctionResponse(
                    name="weather", response={"temp_c": 21, "sky": "clear"}
                )
            ),
            types.Part(text="And tomorrow?"),
        ],
    ),
]
RICH_CONFIG = types.GenerateContentConfig(
    system_instruction="Be brief.",
    temperature=0.3,
    max_output_tokens=64,
    thinking_config=types.ThinkingConfig(thinking_budget=512, include_thoughts=True),
    tools=[
        types.Tool(
            function_declarations=[
                types.FunctionDeclaration(
                    name="weather",
                    description="Weather for a city",
                    parameters_json_schema={
                        "type": "object",
                        "properties": {"city": {"type": "string"}},
                    },
                )
            ]
        )
    ],
    automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
)


def _dump(response: types.GenerateContentResponse) -> dict[str, Any]:
    return response.model_dump(exclude={"sdk_http_response", "automatic_function_calling_history"})


def test_generate_reaches_the_upstream_byte_for_byte(
    client: genai.Client, direct: genai.Client, fake: FakeUpstream
) -> None:
    via = client.models.generate_content(
        model="gemini-2.5-flash", contents=RICH_CONTENTS, config=RICH_CONFIG
    )
    straight = direct.models.generate_content(
        model="gemini-2.5-flash", contents=RICH_CONTENTS, config=RICH_CONFIG
    )
    relayed, original = fake.requests("g1")[-1], fake.requests("direct")[-1]
    assert relayed.body == original.body
    assert relayed.path == "/g1/v1beta/models/gemini-2.5-flash:generateContent"
    assert relayed.headers["x-goog-api-key"] == UPSTREAM_KEY  # never the caller's key
    assert "authorization" not in relayed.headers
    assert _dump(via) == _dump(straight)
    assert via.model_version == "gemini-2.5-flash-upstream-001"
    parts = via.candidates[0].content.parts
    assert parts[1].thought_signature == base64.b64decode(SIGNATURE)
    assert via.usage_metadata.thoughts_token_count == 4


def test_stream_relays_every_chunk_as_the_upstream_sent_it(
    client: genai.Client, direct: genai.Client, fake: FakeUpstream
) -> None:
    via = list(
        client.models.generate_content_stream(
            model="gemini-2.5-flash", contents=RICH_CONTENTS, config=RICH_CONFIG
        )
    )
    straight = list(
        direct.models.generate_content_stream(
            model="gemini-2.5-flash", contents=RICH_CONTENTS, config=RICH_CONFIG
        )
    )
    assert fake.requests("g1")[-1].body == fake.requests("direct")[-1].body
    assert fake.requests("g1")[-1].path.endswith(":streamGenerateContent")
    assert [_dump(c) for c in via] == [_dump(c) for c in straight]
    assert len(via) == 3
    assert via[-1].usage_metadata.total_token_count == 14


def test_count_tokens_is_the_upstream_count(
    client: genai.Client, direct: genai.Client, fake: FakeUpstream
) -> None:
    contents = "How many tokens is this?"
    via = client.models.count_tokens(model="gemini-2.5-flash", contents=contents)
    straight = direct.models.count_tokens(model="gemini-2.5-flash", contents=contents)
    assert via.total_tokens == straight.total_tokens
    assert fake.requests("g1")[-1].body == fake.requests("direct")[-1].body
    # A relayed id that is no local alias counts too (and its ledger row does not look it up).
    assert client.models.count_tokens(model="retry-after", contents=contents).total_tokens


def test_embed_relays_to_the_upstream_model(client: genai.Client, fake: FakeUpstream) -> None:
    result = client.models.embed_content(
        model="gemini-embedding-001",
        contents=["first text", "second, longer text"],
        config=types.EmbedContentConfig(task_type="RETRIEVAL_QUERY", output_dimensionality=8),
    )
    received = fake.requests("g1")[-1]
    assert received.path.endswith("/models/gemini-embedding-001:batchEmbedContents")
    assert [r["content"]["parts"][0]["text"] for r in received.body["requests"]] == [
        "first text",
        "second, longer text",
    ]
    assert all(r["taskType"] == "RETRIEVAL_QUERY" for r in received.body["requests"])
    assert result.embeddings is not None
    assert [e.values for e in result.embeddings] == [
        [round((len(t) + i) / 100, 4) for i in range(8)]
        for t in ("first text", "second, longer text")
    ]


def test_a_500_fails_over_to_the_next_deployment(client: genai.Client, fake: FakeUpstream) -> None:
    fake.fail("g2", Fault(500))
    response = client.models.generate_content(model="failover-500", contents="hello")
    assert response.text == "echo: hello"
    assert len(fake.requests("g2")) == 1
    assert fake.requests("g3")[-1].path == "/g3/v1beta/models/up-model:generateContent"


def test_a_429_fails_over_in_a_stream(client: genai.Client, fake: FakeUpstream) -> None:
    fake.fail("g2", Fault(429))
    chunks = list(client.models.generate_content_stream(model="failover-500", contents="hi"))
    assert "".join(c.text or "" for c in chunks) == "echo: hi"
    assert fake.requests("g3")[-1].path.endswith(":streamGenerateContent")


def test_a_hanging_deployment_times_out_and_fails_over(
    client: genai.Client, fake: FakeUpstream
) -> None:
    fake.fail("g4", Fault(hang=5.0))
    started = time.monotonic()
    response = client.models.generate_content(model="failover-hang", contents="anyone?")
    elapsed = time.monotonic() - started
    assert response.text == "echo: anyone?"
    assert 1.0 <= elapsed < 4.0  # the 1 s timeout, not the 5 s hang
    assert len(fake.requests("g4")) == 1


def test_retry_after_is_honoured(client: genai.Client, fake: FakeUpstream) -> None:
    fake.fail("g5", Fault(429, retry_after="1"))
    response = client.models.generate_content(model="retry-after", contents="patience")
    assert response.text == "echo: patience"
    first, second = fake.requests("g5")[-2:]
    assert second.at - first.at >= 1.0


def test_an_upstream_client_error_is_not_retried(client: genai.Client, fake: FakeUpstream) -> None:
    fake.fail("g5", Fault(400))
    before = len(fake.requests("g5"))
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model="retry-after", contents="bad")
    assert caught.value.code == 400
    assert "injected 400" in str(caught.value.message)
    assert len(fake.requests("g5")) == before + 1


def test_retries_end_with_the_upstream_error(client: genai.Client, fake: FakeUpstream) -> None:
    fake.fail("g5", Fault(503), Fault(503), Fault(503))
    with pytest.raises(errors.ServerError) as caught:
        client.models.generate_content(model="retry-after", contents="down")
    assert caught.value.code == 503
    assert caught.value.status == "UNAVAILABLE"


def test_the_concurrency_limit_holds(client: genai.Client, fake: FakeUpstream) -> None:
    fake.delay["g6"] = 0.3
    with ThreadPoolExecutor(6) as pool:
        answers = list(
            pool.map(
                lambda i: client.models.generate_content(model="limited", contents=f"n{i}").text,
                range(6),
            )
        )
    assert answers == [f"echo: n{i}" for i in range(6)]
    assert fake.max_in_flight["g6"] == 2


def test_a_failing_deployment_is_ejected_then_readmitted(
    client: genai.Client, fake: FakeUpstream
) -> None:
    fake.fail("g7", Fault(500), Fault(500))
    for i in range(4):
        assert client.models.generate_content(model="ejection", contents=f"q{i}").text
    assert len(fake.requests("g7")) == 2  # ejected after its second failure
    assert len(fake.requests("g8")) == 4
    time.sleep(2.2)  # eject_seconds
    assert client.models.generate_content(model="ejection", contents="back").text == "echo: back"
    assert len(fake.requests("g7")) == 3


def test_a_stream_that_began_is_never_sent_again(client: genai.Client, fake: FakeUpstream) -> None:
    fake.fail("g9", Fault(mid_stream=True))
    received: list[str] = []
    with pytest.raises(errors.ServerError):
        for chunk in client.models.generate_content_stream(model="midstream", contents="x"):
            received.append(chunk.candidates[0].content.parts[0].text or "")
    assert received == ["Considering."]
    assert len(fake.requests("g9")) == 1
    assert fake.requests("g10") == []


def test_openai_upstream_generate_from_the_gemini_sdk(
    client: genai.Client, fake: FakeUpstream
) -> None:
    response = client.models.generate_content(
        model="gpu-cluster",
        contents="ping",
        config=types.GenerateContentConfig(
            system_instruction="Answer briefly.", temperature=0.2, max_output_tokens=32
        ),
    )
    body = fake.requests("o1")[-1].body
    assert body == {
        "model": "llama-3-8b",
        "messages": [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "ping"},
        ],
        "temperature": 0.2,
        "max_tokens": 32,
    }
    assert fake.requests("o1")[-1].headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert response.text == "echo: ping"
    assert response.model_version == "llama-3-8b"
    assert response.usage_metadata.prompt_token_count == 5
    assert response.usage_metadata.candidates_token_count == 3


def test_openai_upstream_stream_asks_for_usage(client: genai.Client, fake: FakeUpstream) -> None:
    chunks = list(client.models.generate_content_stream(model="gpu-cluster", contents="pong"))
    body = fake.requests("o1")[-1].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert "".join(c.text or "" for c in chunks) == "echo: pong"
    assert chunks[-1].usage_metadata.total_token_count == 8


def test_openai_upstream_fails_over(oai: OpenAI, fake: FakeUpstream) -> None:
    fake.fail("o2", Fault(502))
    reply = oai.chat.completions.create(
        model="gpu-failover", messages=[{"role": "user", "content": "via openai"}]
    )
    assert reply.choices[0].message.content == "echo: via openai"
    assert reply.model == "llama-3-8b"
    assert len(fake.requests("o2")) == 1 and fake.requests("o3")


def test_openai_caller_to_gemini_upstream_streams(oai: OpenAI, fake: FakeUpstream) -> None:
    stream = oai.chat.completions.create(
        model="gemini-2.5-flash",
        messages=[{"role": "user", "content": "translate me"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    events = list(stream)
    text = "".join(e.choices[0].delta.content or "" for e in events if e.choices)
    assert text == "echo: translate me"
    body = fake.requests("g1")[-1].body
    assert body["contents"] == [{"role": "user", "parts": [{"text": "translate me"}]}]
    usage = next(e.usage for e in events if e.usage is not None)
    assert usage.completion_tokens == 3 + 4  # OpenAI counts thoughts inside completion


def test_openai_embeddings_upstream(oai: OpenAI, fake: FakeUpstream) -> None:
    result = oai.embeddings.create(
        model="text-embedding-3-small", input=["alpha", "beta"], encoding_format="float"
    )
    assert fake.requests("o1")[-1].body["input"] == ["alpha", "beta"]
    assert [d.embedding for d in result.data] == [
        [round((len(t) + i) / 100, 4) for i in range(8)] for t in ("alpha", "beta")
    ]


def test_vertex_signs_in_with_the_service_account(client: genai.Client, fake: FakeUpstream) -> None:
    for prompt in ("first", "second"):
        response = client.models.generate_content(model="vertex-flash", contents=prompt)
        assert response.text == f"echo: {prompt}"
    received = fake.requests("v1")[-1]
    assert received.path == (
        "/v1/v1/projects/fake-project/locations/europe-west4/publishers/google/models/"
        "gemini-2.5-flash:generateContent"
    )
    assert received.headers["authorization"] == "Bearer ya29.fake-access-token"
    assert fake.tokens_issued == 1  # the token is reused until it nears expiry


def test_a_cache_stays_pinned_to_the_deployment_that_holds_it(
    client: genai.Client, fake: FakeUpstream
) -> None:
    cache = client.caches.create(
        model="cached-model",
        config=types.CreateCachedContentConfig(
            contents=[types.Content(role="user", parts=[types.Part(text="A long document.")])],
            system_instruction="Answer from the document.",
            ttl="300s",
        ),
    )
    assert cache.name is not None and cache.name.startswith("cachedContents/")
    assert cache.usage_metadata is not None and cache.usage_metadata.total_token_count == 1234
    owner = next(d for d in ("g11", "g12") if fake.caches[d])
    other = "g12" if owner == "g11" else "g11"
    ((upstream_name, created),) = fake.caches[owner].items()
    assert created["model"] == "models/up-model"
    assert created["systemInstruction"]["parts"] == [{"text": "Answer from the document."}]
    for i in range(6):  # equal priority and weight: unpinned, half would go elsewhere
        config = types.GenerateContentConfig(cached_content=cache.name)
        response = client.models.generate_content(
            model="cached-model", contents=f"question {i}", config=config
        )
        assert response.text == f"echo: question {i}"
        assert fake.requests(owner)[-1].body["cachedContent"] == upstream_name
    assert all("cachedContent" not in r.body for r in fake.requests(other))

    client.caches.update(name=cache.name, config=types.UpdateCachedContentConfig(ttl="600s"))
    patch = fake.requests(owner)[-1]
    assert patch.path == f"/{owner}/v1beta/{upstream_name}" and patch.body["ttl"].startswith("6")

    client.caches.delete(name=cache.name)
    assert fake.caches[owner] == {}
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(
            model="cached-model",
            contents="after delete",
            config=types.GenerateContentConfig(cached_content=cache.name),
        )
    assert caught.value.code == 404


def test_a_gemgate_file_is_uploaded_once_to_one_deployment_and_stays_there(
    client: genai.Client, fake: FakeUpstream, tmp_path: Path
) -> None:
    content = "Line one of the notes.\nLine two, with ümlauts.\n".encode()
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    uploaded = client.files.upload(file=path, config=types.UploadFileConfig(mime_type="text/plain"))
    assert uploaded.uri is not None
    part = types.Part.from_uri(file_uri=uploaded.uri, mime_type="text/plain")
    for i in range(5):  # equal priority and weight: unpinned, some would go elsewhere
        response = client.models.generate_content(
            model="files-model",
            contents=[types.Content(role="user", parts=[part, types.Part(text=f"q{i}")])],
        )
        assert response.text == f"echo: q{i}"
    owner = next(d for d in ("g13", "g14") if fake.files[d])
    other = "g14" if owner == "g13" else "g13"
    ((upstream_uri, data),) = fake.files[owner].items()
    assert data == content  # the bytes, as uploaded to gemgate
    assert fake.files[other] == {}
    assert len(fake.requests(owner)) == 1 + 5  # one upload start, five generations
    sent = [r.body["contents"][0]["parts"][0]["fileData"] for r in fake.requests(owner)[1:]]
    # The SDK spells it file_uri; gemgate keeps the caller's spelling and changes only the uri.
    assert all(fd["file_uri"] == upstream_uri for fd in sent)


def test_a_relayed_request_is_metered_with_what_the_upstream_reported(
    relay: RunningServer, fake: FakeUpstream
) -> None:
    key_id, key = make_key(relay.url)
    sdk = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=relay.url + "/gemini"))
    response = sdk.models.generate_content(model="gemini-2.5-flash", contents="metered")
    (row,) = ledger_rows(relay, key_id, 1)
    assert row.model_asked == "gemini-2.5-flash"
    assert row.model_served == response.model_version == "gemini-2.5-flash-upstream-001"
    assert (row.prompt_tokens, row.thoughts_tokens, row.total_tokens) == (7, 4, 14)
    assert row.deployment == "g1" and row.status == "OK"
    chunks = list(sdk.models.generate_content_stream(model="gpu-cluster", contents="s"))
    assert chunks[-1].usage_metadata is not None
    streamed = ledger_rows(relay, key_id, 2)[-1]
    assert (streamed.deployment, streamed.model_served) == ("o1", "llama-3-8b")


def test_models_get_and_list_show_relayed_ids(client: genai.Client) -> None:
    studio = client.models.get(model="gemini-2.5-flash")
    assert studio.name == "models/gemini-2.5-flash"
    assert (studio.input_token_limit, studio.output_token_limit) == (1048576, 65536)
    assert studio.display_name == "Upstream gemini-2.5-flash"  # the upstream's own description
    cluster = client.models.get(model="gpu-cluster")
    assert cluster.version == "llama-3-8b" and cluster.description is not None
    assert "o1" in cluster.description
    names = {m.name for m in client.models.list(config={"page_size": 1000})}
    assert {"models/failover-500", "models/gpu-cluster", "models/gemini-2.5-flash"} <= names
    assert "models/smollm2-135m-instruct" in names  # local models are still listed
