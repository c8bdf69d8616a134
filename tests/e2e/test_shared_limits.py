"""Two gemgate processes on one PostgreSQL database and one Redis enforce one set of limits.

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) and Redis at 127.0.0.1:6379,
as CI starts them. Each run uses a fresh database and a fresh Redis key prefix.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg
import pytest
import redis
from google.genai import errors

from tests.e2e.accounts import (
    ADMIN,
    ADMIN_KEY,
    MODEL,
    burst,
    count_tokens,
    make_key,
    wait_for_a_fresh_minute,
)
from tests.serving import RunningServer, gemgate_server

pytestmark = pytest.mark.e2e

PG = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
COUNT_URL = f"/v1beta/models/{MODEL}:countTokens"
COUNT_BODY = {"contents": [{"parts": [{"text": "hi"}]}]}


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    name = f"gemgate_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    prefix = f"gemgate-test-{secrets.token_hex(6)}"
    yield prefix
    with redis.Redis.from_url(REDIS_URL) as client:
        for name in client.scan_iter(match=prefix + "*"):
            client.delete(name)


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory, database: str, redis_prefix: str
) -> Iterator[tuple[RunningServer, RunningServer]]:
    env = {
        "GEMGATE_N_PARALLEL": "1",
        "GEMGATE_ADMIN_KEY": ADMIN_KEY,
        "GEMGATE_EMBEDDING_WARMUP": "false",
        "GEMGATE_DATABASE_URL": database,
        "GEMGATE_REDIS_URL": REDIS_URL,
        "GEMGATE_REDIS_KEY_PREFIX": redis_prefix,
    }
    with ExitStack() as stack:
        # One after the other: the first creates the tables.
        first = stack.enter_context(gemgate_server(_dir(tmp_path_factory, "a"), env=env))
        second = stack.enter_context(gemgate_server(_dir(tmp_path_factory, "b"), env=env))
        yield first, second


def _dir(factory: pytest.TempPathFactory, name: str) -> Path:
    return factory.mktemp(f"gemgate-shared-{name}")


def _count(server: RunningServer, key: str) -> int:
    reply = httpx.post(server.url + COUNT_URL, headers={"x-goog-api-key": key}, json=COUNT_BODY)
    return reply.status_code


async def test_one_rpm_limit_holds_across_two_processes(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    first, second = pair
    _, key = make_key(first.url, rpm=20)
    wait_for_a_fresh_minute()
    results = await burst([first.url, second.url], key, 50, count_tokens)
    refused = [r for r in results if isinstance(r, errors.APIError)]
    assert len(results) - len(refused) == 20
    assert {r.code for r in refused} == {429}


def test_a_key_revoked_through_one_process_is_refused_by_the_other_at_once(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    first, second = pair
    key_id, key = make_key(first.url)
    assert _count(second, key) == 200  # the second process has seen and accepted the key
    revoked = httpx.post(f"{first.url}/admin/v1/keys/{key_id}:revoke", headers=ADMIN)
    assert revoked.status_code == 200 and revoked.json()["revokeTime"]
    assert _count(second, key) == 400
    assert _count(first, key) == 400


def test_a_key_rotated_through_one_process_changes_secret_in_the_other_at_once(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    first, second = pair
    key_id, old = make_key(second.url)
    assert _count(first, old) == 200
    rotated = httpx.post(f"{second.url}/admin/v1/keys/{key_id}:rotate", headers=ADMIN)
    new = rotated.json()["secret"]
    assert _count(first, old) == 400
    assert _count(first, new) == 200


def test_both_processes_write_one_ledger(pair: tuple[RunningServer, RunningServer]) -> None:
    first, second = pair
    key_id, key = make_key(first.url)
    assert _count(first, key) == 200 and _count(second, key) == 200
    url = f"{second.url}/admin/v1/keys/{key_id}/usage"
    for _ in range(50):
        usage = httpx.get(url, headers=ADMIN, params={"by": "model"}).json()["usage"]
        if usage and usage[0]["requests"] == 2:
            break
        time.sleep(0.1)  # the ledger writes in batches
    assert usage == [
        {
            "group": MODEL,
            "requests": 2,
            "errors": 0,
            "promptTokens": 0,
            "cachedTokens": 0,
            "candidatesTokens": 0,
            "thoughtsTokens": 0,
            "costUsd": 0.0,
        }
    ]
