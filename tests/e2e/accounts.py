"""Keys made through the admin API, and ledger rows read back, for the accounting e2e tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
from google import genai
from google.genai import errors, types

from gemgate.core.ports import UsageRecord
from gemgate.store.database import open_database
from gemgate.store.usage import SqlUsageStore
from tests.serving import RunningServer

ADMIN_KEY = "admin-secret-for-tests"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
MODEL = "gemini-2.5-flash"


def make_key(url: str, **limits: Any) -> tuple[str, str]:
    """A key with the given limits (rpm, tpm, dailyTokens, budgetUsd, models): (id, secret)."""
    reply = httpx.post(f"{url}/admin/v1/keys", headers=ADMIN, json={"project": "p", **limits})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    return body["key"]["id"], body["secret"]


def client(url: str, key: str) -> genai.Client:
    return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=url + "/gemini"))


def wait_for_a_fresh_minute(margin: float = 5.0) -> None:
    """Windows are wall-clock minutes: start a burst well inside one so it is all counted there."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.05)


async def burst(urls: list[str], key: str, n: int, call: Callable[..., Any]) -> list[Any]:
    """`n` concurrent SDK clients (spread over the servers at `urls`): each result or error."""

    async def one(i: int) -> Any:
        async with client(urls[i % len(urls)], key).aio as aio:
            try:
                return await call(aio)
            except errors.APIError as exc:
                return exc

    return await asyncio.gather(*(one(i) for i in range(n)))


async def count_tokens(aio: Any) -> Any:
    return await aio.models.count_tokens(model=MODEL, contents="How many tokens is this?")


def ledger_rows(
    server: RunningServer, key_id: str, expect: int, timeout: float = 10.0
) -> list[UsageRecord]:
    """The key's ledger rows once `expect` of them have been written (the writer batches)."""
    store = SqlUsageStore(open_database(f"sqlite:///{server.data_dir / 'gemgate.db'}"))
    deadline = time.monotonic() + timeout
    while True:
        rows = [r for r in store.records() if r.key_id == key_id]
        if len(rows) >= expect or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)
