"""Fuzzed request JSON (hypothesis) against a real server never yields a 5xx.

The server under fuzz caps every model's output at 4 tokens (through --config), so any
request that happens to be valid stays cheap to answer.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.serving import RunningServer, gemgate_server

pytestmark = pytest.mark.e2e

CONFIG = """
default_model = "smollm2-135m-instruct"
[[models]]
id = "smollm2-135m-instruct"
bundled = "smollm2"
max_output_tokens = 4
"""


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir: Path = tmp_path_factory.mktemp("gemgate-fuzz")
    config = data_dir / "gemgate.toml"
    config.write_text(CONFIG)
    with gemgate_server(data_dir, extra_args=["--config", str(config)]) as running:
        yield running


@pytest.fixture(scope="module")
def http(fuzz_server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fuzz_server.url, timeout=60) as client:
        yield client


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
any_json = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
names = st.sampled_from(
    [
        "text",
        "inlineData",
        "inline_data",
        "fileData",
        "thought",
        "functionCall",
        "thoughtSignature",
        "bogus",
    ]
)
parts = st.dictionaries(
    names, st.one_of(any_json, st.just({"mimeType": "text/plain", "data": "aGk="})), max_size=2
)
contents = st.lists(
    st.fixed_dictionaries(
        {"parts": st.one_of(st.lists(parts, max_size=3), any_json)},
        optional={"role": st.one_of(st.sampled_from(["user", "model", "system"]), any_json)},
    ),
    max_size=3,
)
config_keys = st.sampled_from(
    [
        "temperature",
        "topP",
        "top_k",
        "candidateCount",
        "maxOutputTokens",
        "stopSequences",
        "seed",
        "presencePenalty",
        "responseLogprobs",
        "logprobs",
        "responseMimeType",
        "thinkingConfig",
        "bogusField",
    ]
)
generation_config = st.dictionaries(config_keys, any_json, max_size=4)
requests = st.fixed_dictionaries(
    {},
    optional={
        "contents": st.one_of(contents, any_json),
        "generationConfig": st.one_of(generation_config, any_json),
        "systemInstruction": any_json,
        "tools": any_json,
        "safetySettings": any_json,
        "cachedContent": any_json,
    },
)
# Near-valid requests: right shapes, values around and beyond each field's range.
near_valid_config = st.fixed_dictionaries(
    {"maxOutputTokens": st.integers(-1, 6)},
    optional={
        "temperature": st.floats(-1, 3, allow_nan=False),
        "topP": st.floats(-0.5, 1.5, allow_nan=False),
        "topK": st.integers(-2, 100),
        "candidateCount": st.integers(-1, 9),
        "stopSequences": st.lists(st.text(max_size=3), max_size=7),
        "seed": st.integers(-(2**40), 2**40),
        "presencePenalty": st.floats(-3, 3, allow_nan=False),
        "frequencyPenalty": st.floats(-3, 3, allow_nan=False),
        "responseLogprobs": st.booleans(),
        "logprobs": st.integers(-1, 25),
        "responseMimeType": st.sampled_from(["text/plain", "application/json", "x/y"]),
        "thinkingConfig": st.fixed_dictionaries(
            {}, optional={"thinkingBudget": st.integers(-2, 30), "includeThoughts": st.booleans()}
        ),
    },
)
near_valid = st.fixed_dictionaries(
    {
        "contents": st.lists(
            st.fixed_dictionaries(
                {
                    "role": st.sampled_from(["user", "model"]),
                    "parts": st.lists(
                        st.fixed_dictionaries({"text": st.text(max_size=30)}),
                        min_size=1,
                        max_size=2,
                    ),
                }
            ),
            min_size=1,
            max_size=3,
        ),
        "generationConfig": near_valid_config,
    }
)
methods = st.sampled_from(
    [
        "/v1beta/models/gemini-2.5-flash:generateContent",
        "/gemini/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        "/v1alpha/models/smollm2-135m-instruct:countTokens",
        "/models/" + "x" * 40 + ":generateContent",
    ]
)


def assert_not_5xx(response: httpx.Response) -> None:
    event(f"status {response.status_code}")
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        assert response.json()["error"]["code"] == response.status_code


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=methods, body=requests)
def test_structured_fuzz_never_5xx(http: httpx.Client, path: str, body: dict[str, Any]) -> None:
    assert_not_5xx(http.post(path, content=json.dumps(body)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=methods, body=near_valid)
def test_near_valid_fuzz_never_5xx(http: httpx.Client, path: str, body: dict[str, Any]) -> None:
    assert_not_5xx(http.post(path, content=json.dumps(body)))


@settings(max_examples=100, deadline=None)
@given(path=methods, body=any_json)
def test_arbitrary_json_never_5xx(http: httpx.Client, path: str, body: Any) -> None:
    assert_not_5xx(http.post(path, content=json.dumps(body)))


@settings(max_examples=60, deadline=None)
@given(path=methods, raw=st.binary(max_size=200) | st.text(string.printable, max_size=200))
def test_arbitrary_bytes_never_5xx(http: httpx.Client, path: str, raw: bytes | str) -> None:
    assert_not_5xx(http.post(path, content=raw))
