"""The usage ledger end to end: one row per request, matching what the SDK was told.

Rows carry cached and thought tokens, cost at the configured prices (cached input at 25%,
thoughts as output), time to first token for streams, CANCELLED when a client goes away, and
every row reaches the database on a clean shutdown.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import openai
import pytest
from google.genai import types

from gemgate.core.ports import UsageRecord
from tests.e2e.accounts import (
    INPUT_PRICE,
    MODEL,
    OUTPUT_PRICE,
    client,
    ledger_rows,
    make_key,
    priced_server,
)
from tests.serving import RunningServer

pytestmark = pytest.mark.e2e

DOCUMENT = " ".join(f"Entry {i}: the keeper counted {i * 3} gulls." for i in range(30))


@pytest.fixture(scope="module")
def server(accounting_server: RunningServer) -> RunningServer:
    return accounting_server


def expected_cost(row: UsageRecord) -> float:
    fresh = row.prompt_tokens - row.cached_tokens
    output = row.candidates_tokens + row.thoughts_tokens
    return (
        fresh * INPUT_PRICE + row.cached_tokens * INPUT_PRICE * 0.25 + output * OUTPUT_PRICE
    ) / 1e6


def assert_matches(row: UsageRecord, usage: types.GenerateContentResponseUsageMetadata) -> None:
    assert row.prompt_tokens == usage.prompt_token_count
    assert row.cached_tokens == (usage.cached_content_token_count or 0)
    assert row.candidates_tokens == (usage.candidates_token_count or 0)
    assert row.thoughts_tokens == (usage.thoughts_token_count or 0)
    assert row.total_tokens == usage.total_token_count
    assert row.cost_usd == pytest.approx(expected_cost(row))


def test_rows_carry_cached_tokens_billed_at_a_quarter(server: RunningServer) -> None:
    key_id, key = make_key(server.url)
    sdk = client(server.url, key)
    config = types.GenerateContentConfig(max_output_tokens=2, temperature=0.0)
    answers = [
        sdk.models.generate_content(model=MODEL, contents=DOCUMENT, config=config) for _ in range(2)
    ]
    rows = ledger_rows(server, key_id, 2)
    assert len(rows) == 2
    for row, answer in zip(rows, answers, strict=True):
        assert answer.usage_metadata
        assert_matches(row, answer.usage_metadata)
        assert (row.method, row.model_asked, row.status) == ("generateContent", MODEL, "OK")
        assert row.model_served == answer.model_version
        assert row.deployment == f"local:{answer.model_version}"
    assert rows[1].cached_tokens > 0 and rows[1].cost_usd < rows[0].cost_usd


def test_rows_carry_thought_tokens_billed_as_output(server: RunningServer) -> None:
    key_id, key = make_key(server.url)
    config = types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(thinking_budget=16),
        max_output_tokens=4,
        temperature=0.0,
    )
    sdk = client(server.url, key)  # kept: a collected client closes its connection pool
    answer = sdk.models.generate_content(
        model=MODEL, contents="Why is the sea salty?", config=config
    )
    usage = answer.usage_metadata
    assert usage and usage.thoughts_token_count
    (row,) = ledger_rows(server, key_id, 1)
    assert_matches(row, usage)


def test_a_streamed_row_has_its_time_to_first_token(server: RunningServer) -> None:
    key_id, key = make_key(server.url)
    config = types.GenerateContentConfig(max_output_tokens=6)
    sdk = client(server.url, key)
    chunks = list(
        sdk.models.generate_content_stream(
            model=MODEL, contents="Tell me about owls.", config=config
        )
    )
    usage = chunks[-1].usage_metadata
    assert usage
    (row,) = ledger_rows(server, key_id, 1)
    assert row.method == "streamGenerateContent" and row.status == "OK"
    assert_matches(row, usage)
    assert row.ttft_ms is not None and 0 < row.ttft_ms <= row.latency_ms


def test_an_openai_call_is_metered_too(server: RunningServer) -> None:
    key_id, key = make_key(server.url)
    with openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0) as oai:
        completion = oai.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Hi"}], max_tokens=2
        )
    assert completion.usage
    (row,) = ledger_rows(server, key_id, 1)
    assert row.method == "chat.completions"
    assert row.prompt_tokens == completion.usage.prompt_tokens
    assert row.total_tokens == completion.usage.total_tokens


def test_a_client_that_goes_away_mid_stream_leaves_a_cancelled_row(
    server: RunningServer,
) -> None:
    key_id, key = make_key(server.url)
    url = f"{server.url}/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"
    body = {
        "contents": [{"parts": [{"text": "Write a long story about a ship."}]}],
        "generationConfig": {"maxOutputTokens": 400},
    }
    with httpx.stream("POST", url, json=body, headers={"x-goog-api-key": key}, timeout=60) as reply:
        next(reply.iter_lines())  # the first event, then hang up
    (row,) = ledger_rows(server, key_id, 1, timeout=30)
    assert row.status == "CANCELLED" and row.ttft_ms is not None


def test_errors_are_rows_with_their_status(server: RunningServer) -> None:
    key_id, key = make_key(server.url)
    reply = httpx.post(
        f"{server.url}/v1beta/models/{MODEL}:generateContent",
        headers={"x-goog-api-key": key},
        json={"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {"topK": -3}},
    )
    assert reply.status_code == 400
    (row,) = ledger_rows(server, key_id, 1)
    assert row.status == "INVALID_ARGUMENT" and row.error


def test_rows_are_not_lost_on_a_clean_shutdown_and_the_report_shows_them(
    tmp_path: Path,
) -> None:
    # The writer would wait ten minutes before its first write: only shutdown can flush it.
    with priced_server(tmp_path, GEMGATE_LEDGER_FLUSH_MS="600000") as running:
        _, key = make_key(running.url)
        sdk = client(running.url, key)
        for _ in range(3):
            sdk.models.count_tokens(model=MODEL, contents="hi")
    report = running.cli("usage", "--by", "model", "--json")
    assert report.returncode == 0, report.stderr
    (totals,) = json.loads(report.stdout)
    assert totals["group"] == MODEL and totals["requests"] == 3
    table = running.cli("usage", "--by", "day")
    assert table.returncode == 0 and "requests" in table.stdout


def test_embeddings_are_metered_with_their_tokens(server: RunningServer) -> None:
    key_id, key = make_key(server.url)
    sdk = client(server.url, key)
    result = sdk.models.embed_content(model="gemini-embedding-001", contents=["one", "two"])
    assert result.embeddings and len(result.embeddings) == 2
    (row,) = ledger_rows(server, key_id, 1, timeout=60)
    assert (row.method, row.model_asked) == ("batchEmbedContents", "gemini-embedding-001")
    assert row.model_served == "all-minilm-l6-v2" and row.status == "OK"
    assert row.prompt_tokens == 6  # [CLS] one [SEP] + [CLS] two [SEP]
