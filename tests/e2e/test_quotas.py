"""Per-key quotas end to end: exact RPM and TPM under 50 concurrent clients, budgets, 429s.

One server (one engine slot), shared with the ledger tests; every test makes its own key
through the admin API, so their counters never meet.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import openai
import pytest
from google.genai import errors, types

from tests.e2e.accounts import (
    ADMIN_KEY,
    INPUT_PRICE,
    MODEL,
    OUTPUT_PRICE,
    burst,
    client,
    count_tokens,
    ledger_rows,
    make_key,
    wait_for_a_fresh_minute,
)
from tests.serving import RunningServer

pytestmark = pytest.mark.e2e

COUNT_URL = f"/v1beta/models/{MODEL}:countTokens"
COUNT_BODY = {"contents": [{"parts": [{"text": "hi"}]}]}


@pytest.fixture(scope="module")
def server(accounting_server: RunningServer) -> RunningServer:
    return accounting_server


async def test_rpm_admits_exactly_the_limit_from_50_concurrent_clients(
    server: RunningServer,
) -> None:
    key_id, key = make_key(server.url, rpm=20)
    wait_for_a_fresh_minute()
    results = await burst([server.url], key, 50, count_tokens)
    refused = [r for r in results if isinstance(r, errors.APIError)]
    assert len(results) - len(refused) == 20
    assert len(refused) == 30 and {r.code for r in refused} == {429}
    rows = ledger_rows(server, key_id, 50)
    assert sorted(r.status for r in rows) == ["OK"] * 20 + ["RESOURCE_EXHAUSTED"] * 30


def test_a_refusal_is_googles_429_with_retry_hints(server: RunningServer) -> None:
    _, key = make_key(server.url, rpm=1)
    wait_for_a_fresh_minute()
    sdk = client(server.url, key)
    sdk.models.count_tokens(model=MODEL, contents="hi")
    with pytest.raises(errors.ClientError) as raised:
        sdk.models.count_tokens(model=MODEL, contents="hi")
    assert raised.value.code == 429 and raised.value.status == "RESOURCE_EXHAUSTED"
    reply = httpx.post(server.url + COUNT_URL, headers={"x-goog-api-key": key}, json=COUNT_BODY)
    assert reply.status_code == 429
    delay = int(reply.headers["Retry-After"])
    assert 1 <= delay <= 60
    details = {d["@type"].rsplit(".", 1)[-1]: d for d in reply.json()["error"]["details"]}
    assert details["RetryInfo"]["retryDelay"] == f"{delay}s"
    violation = details["QuotaFailure"]["violations"][0]
    assert violation["quotaId"] == "RequestsPerMinutePerKey" and violation["quotaValue"] == "1"


def test_a_refusal_on_the_openai_routes_is_openais_rate_limit_error(
    server: RunningServer,
) -> None:
    _, key = make_key(server.url, rpm=1)
    wait_for_a_fresh_minute()
    with openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0) as oai:
        messages: Any = [{"role": "user", "content": "hi"}]
        oai.chat.completions.create(model=MODEL, messages=messages, max_tokens=1)
        with pytest.raises(openai.RateLimitError) as raised:
            oai.chat.completions.create(model=MODEL, messages=messages, max_tokens=1)
    assert raised.value.code == "rate_limit_exceeded"
    assert 1 <= int(raised.value.response.headers["retry-after"]) <= 60


async def test_tpm_admits_exactly_while_reserved_tokens_are_below_it(
    server: RunningServer,
) -> None:
    _, unlimited = make_key(server.url)
    prompt = (await _count(server, unlimited)).total_tokens
    assert prompt and prompt > 5
    # Each request reserves `prompt` tokens: 0, P, 2P and 3P are below 3P + 5, 4P is not
    # (settled output tokens, at most 4, cannot close the gap of 5).
    _, key = make_key(server.url, tpm=3 * prompt + 5)
    wait_for_a_fresh_minute(margin=15)
    config = types.GenerateContentConfig(max_output_tokens=1)

    async def generate(aio: Any) -> Any:
        return await aio.models.generate_content(model=MODEL, contents=QUESTION, config=config)

    results = await burst([server.url], key, 50, generate)
    served = [r for r in results if not isinstance(r, errors.APIError)]
    assert len(served) == 4
    assert {r.code for r in results if isinstance(r, errors.APIError)} == {429}


def test_a_budget_stops_spending(server: RunningServer) -> None:
    key_id, key = make_key(server.url, budgetUsd=0.05)
    sdk = client(server.url, key)
    config = types.GenerateContentConfig(max_output_tokens=1)
    spent, requests = 0.0, 0
    while spent < 0.05:  # each request costs 0.01-0.04 USD at these prices
        response = sdk.models.generate_content(model=MODEL, contents=QUESTION, config=config)
        usage = response.usage_metadata
        assert usage and usage.prompt_token_count
        spent += _cost(usage)
        requests += 1
    reply = httpx.post(server.url + COUNT_URL, headers={"x-goog-api-key": key}, json=COUNT_BODY)
    assert reply.status_code == 429 and "Retry-After" not in reply.headers
    error = reply.json()["error"]
    assert [d["@type"].rsplit(".", 1)[-1] for d in error["details"]] == ["QuotaFailure"]
    assert error["details"][0]["violations"][0]["quotaId"] == "BudgetUsdPerKey"
    rows = [r for r in ledger_rows(server, key_id, requests + 1) if r.status == "OK"]
    assert len(rows) == requests
    assert sum(r.cost_usd for r in rows) == pytest.approx(spent)


def test_a_model_outside_the_keys_list_is_permission_denied(server: RunningServer) -> None:
    _, key = make_key(server.url, models=[MODEL])
    sdk = client(server.url, key)
    sdk.models.count_tokens(model=MODEL, contents="hi")
    with pytest.raises(errors.ClientError) as raised:
        sdk.models.count_tokens(model="gemini-2.5-pro", contents="hi")
    assert raised.value.code == 403 and raised.value.status == "PERMISSION_DENIED"


def test_revoked_and_rotated_secrets_are_refused_at_once(server: RunningServer) -> None:
    key_id, key = make_key(server.url)
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    count = {"json": COUNT_BODY}
    assert httpx.post(server.url + COUNT_URL, headers={"x-goog-api-key": key}, **count).is_success
    rotated = httpx.post(f"{server.url}/admin/v1/keys/{key_id}:rotate", headers=headers).json()
    new = rotated["secret"]
    assert rotated["key"]["id"] == key_id
    old_reply = httpx.post(server.url + COUNT_URL, headers={"x-goog-api-key": key}, **count)
    assert old_reply.status_code == 400
    assert httpx.post(server.url + COUNT_URL, headers={"x-goog-api-key": new}, **count).is_success
    httpx.post(f"{server.url}/admin/v1/keys/{key_id}:revoke", headers=headers)
    assert (
        httpx.post(server.url + COUNT_URL, headers={"x-goog-api-key": new}, **count).status_code
        == 400
    )


QUESTION = "Name one colour of the rainbow."


async def _count(server: RunningServer, key: str) -> Any:
    async with client(server.url, key).aio as aio:
        return await aio.models.count_tokens(model=MODEL, contents=QUESTION)


def _cost(usage: types.GenerateContentResponseUsageMetadata) -> float:
    prompt = usage.prompt_token_count or 0
    cached = usage.cached_content_token_count or 0
    output = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
    return (
        (prompt - cached) * INPUT_PRICE + cached * INPUT_PRICE * 0.25 + output * OUTPUT_PRICE
    ) / 1e6


def test_the_admin_api_wants_its_key_and_names_bad_fields(server: RunningServer) -> None:
    keys_url = f"{server.url}/admin/v1/keys"
    assert httpx.get(keys_url).status_code == 401
    assert httpx.get(keys_url, headers={"x-admin-key": "wrong"}).status_code == 401
    admin = {"x-admin-key": ADMIN_KEY}
    bad = httpx.post(keys_url, headers=admin, json={"project": "p", "rpm": 0})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["fieldViolations"][0]["field"] == "rpm"
    missing = httpx.get(f"{keys_url}/no-such-key", headers=admin)
    assert missing.status_code == 404


def test_the_cli_creates_lists_and_rotates_keys_with_limits(server: RunningServer) -> None:
    created = server.cli(
        "keys", "create", "--project", "cli", "--rpm", "2", "--tpm", "500",
        "--daily-tokens", "9000", "--budget", "1.5", "--models", f"{MODEL},gemini-2.5-pro",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    fields = dict(line.split(":", 1) for line in created.stdout.splitlines())
    key_id, old = fields["id"].strip(), fields["key"].strip()
    listed = {k["id"]: k for k in json.loads(server.cli("keys", "list", "--json").stdout)}
    assert listed[key_id]["rpm"] == 2 and listed[key_id]["daily_tokens"] == 9000
    assert listed[key_id]["budget_usd"] == 1.5
    assert listed[key_id]["models"] == [MODEL, "gemini-2.5-pro"]
    rotated = server.cli("keys", "rotate", key_id)
    assert rotated.returncode == 0, rotated.stderr
    new = dict(line.split(":", 1) for line in rotated.stdout.splitlines())["key"].strip()
    old_reply = httpx.post(server.url + COUNT_URL, headers={"x-goog-api-key": old}, json=COUNT_BODY)
    assert old_reply.status_code == 400
    new_reply = httpx.post(server.url + COUNT_URL, headers={"x-goog-api-key": new}, json=COUNT_BODY)
    assert new_reply.status_code == 200
    assert server.cli("keys", "rotate", "no-such-id").returncode == 1


def test_daily_tokens_stop_a_key_until_the_next_utc_day(server: RunningServer) -> None:
    _, key = make_key(server.url, dailyTokens=10)
    sdk = client(server.url, key)
    config = types.GenerateContentConfig(max_output_tokens=1)
    sdk.models.generate_content(model=MODEL, contents="hi", config=config)  # 0 < 10: runs
    reply = httpx.post(server.url + COUNT_URL, headers={"x-goog-api-key": key}, json=COUNT_BODY)
    assert reply.status_code == 429
    violation = reply.json()["error"]["details"][0]["violations"][0]
    assert violation["quotaId"] == "TokensPerDayPerKey"
    seconds_to_midnight = 86400 - int(time.time()) % 86400
    assert abs(int(reply.headers["Retry-After"]) - seconds_to_midnight) <= 2
