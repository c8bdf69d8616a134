from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from google import genai
from google.genai import types
from google.genai.client import AsyncClient
from openai import AsyncOpenAI, OpenAI

from tests.e2e.accounts import accounting_server
from tests.serving import RunningServer, gemgate_server

__all__ = ["accounting_server"]  # one priced server with an admin key for the accounting tests


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir: Path = tmp_path_factory.mktemp("gemgate-e2e")
    with gemgate_server(data_dir, env={"GEMGATE_N_PARALLEL": "4"}) as running:
        yield running


@pytest.fixture(scope="session", params=["/gemini", ""], ids=["gemini-prefix", "root"])
def client(request: pytest.FixtureRequest, server: RunningServer) -> genai.Client:
    return genai.Client(
        api_key="test-key",
        http_options=types.HttpOptions(base_url=server.url + request.param),
    )


@pytest.fixture(scope="session")
def gemini(server: RunningServer) -> genai.Client:
    """One client for tests where the base URL does not matter."""
    return genai.Client(
        api_key="test-key", http_options=types.HttpOptions(base_url=server.url + "/gemini")
    )


@pytest.fixture
async def aio(server: RunningServer) -> AsyncIterator[AsyncClient]:
    """An async client, closed after the test so no socket outlives it."""
    client = genai.Client(
        api_key="test-key", http_options=types.HttpOptions(base_url=server.url + "/gemini")
    )
    async with client.aio as aio_client:
        yield aio_client


# The OpenAI dialect: both base URLs the openai SDK is pointed at. The SDK retries 5xx/429 by
# default, which would hide the first answer, so the clients never retry.
OPENAI_BASES = ["/v1", "/v1beta/openai/"]


@pytest.fixture(scope="session", params=OPENAI_BASES, ids=["v1", "v1beta-openai"])
def openai_base(request: pytest.FixtureRequest, server: RunningServer) -> str:
    return server.url + str(request.param)


@pytest.fixture(scope="session")
def oai(openai_base: str) -> Iterator[OpenAI]:
    with OpenAI(base_url=openai_base, api_key="x", max_retries=0) as client:
        yield client


@pytest.fixture(scope="session")
def oai_v1(server: RunningServer) -> Iterator[OpenAI]:
    """One client for tests where the base URL does not matter."""
    with OpenAI(base_url=server.url + "/v1", api_key="x", max_retries=0) as client:
        yield client


@pytest.fixture
async def aoai(server: RunningServer) -> AsyncIterator[AsyncOpenAI]:
    """An async client, closed after the test so no socket outlives it."""
    async with AsyncOpenAI(base_url=server.url + "/v1", api_key="x", max_retries=0) as client:
        yield client


# Code execution: one server with small sandbox limits, shared by the SDK and security tests.
SANDBOX_WALL_SECONDS = 3.0
SANDBOX_OUTPUT_BYTES = 65536
SECRET_CANARY = "canary-7f3a9c1e5b2d"  # in the server's environment; no sandbox may see it


@pytest.fixture(scope="session")
def code_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    env = {
        "GEMGATE_CODE_EXECUTION_ISOLATION": "bwrap",
        "GEMGATE_CODE_EXECUTION_WALL_SECONDS": str(SANDBOX_WALL_SECONDS),
        "GEMGATE_CODE_EXECUTION_CPU_SECONDS": "2",
        "GEMGATE_CODE_EXECUTION_MEMORY_MIB": "256",
        "GEMGATE_CODE_EXECUTION_OUTPUT_BYTES": str(SANDBOX_OUTPUT_BYTES),
        "GEMGATE_CODE_EXECUTION_MAX_ROUNDS": "2",
        "GEMGATE_EMBEDDING_WARMUP": "false",
        "GEMGATE_N_PARALLEL": "2",
        "SANDBOX_TEST_SECRET": SECRET_CANARY,
    }
    with gemgate_server(tmp_path_factory.mktemp("gemgate-code"), env=env) as running:
        yield running


@pytest.fixture(scope="session")
def code_client(code_server: RunningServer) -> genai.Client:
    return genai.Client(
        api_key="test-key", http_options=types.HttpOptions(base_url=code_server.url + "/gemini")
    )
