"""Keys made through the admin API, and ledger rows read back, for the accounting e2e tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import errors, types

from gemgate.core.ports import UsageRecord
from gemgate.store.database import open_database
from gemgate.store.usage import SqlUsageStore
from tests.serving import RunningServer, gemgate_server

ADMIN_KEY = "admin-secret-for-tests"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
MODEL = "gemini-2.5-flash"
INPUT_PRICE, OUTPUT_PRICE = 1000.0, 2000.0  # USD per 1M: a few requests spend a small budget
CONFIG = f"""
[prices."{MODEL}"]
input_per_million = {INPUT_PRICE}
output_per_million = {OUTPUT_PRICE}
"""
ENV = {
    "GEMGATE_N_PARALLEL": "1",
    "GEMGATE_ADMIN_KEY": ADMIN_KEY,
    "GEMGATE_EMBEDDING_WARMUP": "false",
}


def priced_server(data_dir: Path, **env: str) -> Any:
    """A server with an admin key and MODEL priced at INPUT_PRICE/OUTPUT_PRICE."""
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "gemgate.toml"
    config.write_text(CONFIG)
    return gemgate_server(data_dir, env={**ENV, **env}, extra_args=["--config", str(config)])


@pytest.fixture(scope="session")
def accounting_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server for the quota and ledger tests; each test makes its own keys."""
    data_dir = tmp_path_factory.mktemp("gemgate-accounting")
    with priced_server(data_dir, GEMGATE_LEDGER_FLUSH_MS="50") as running:
        yield running


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
