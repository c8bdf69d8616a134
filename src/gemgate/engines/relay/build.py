"""Builds an Upstream for one deployment: its HTTP client, endpoint and credential."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from gemgate.core.ports import Upstream
from gemgate.engines.relay.gemini import (
    AI_STUDIO_URL,
    GeminiUpstream,
    StudioEndpoint,
    VertexEndpoint,
)
from gemgate.engines.relay.openai import OpenAIUpstream
from gemgate.engines.relay.transport import Headers, Transport
from gemgate.engines.relay.vertex_auth import ServiceAccountTokens


@dataclass(frozen=True)
class UpstreamSpec:
    name: str
    kind: str  # gemini | vertex | openai
    base_url: str | None
    api_key: str | None = None
    api_version: str = "v1beta"
    project: str | None = None
    location: str = "us-central1"
    credentials_file: Path | None = None
    token_uri: str | None = None
    max_concurrency: int = 64
    timeout_seconds: float = 120.0
    connect_timeout_seconds: float = 5.0


def _client(spec: UpstreamSpec) -> httpx.AsyncClient:
    # The pool holds as many connections as requests may be in flight to this deployment.
    limits = httpx.Limits(
        max_connections=spec.max_concurrency, max_keepalive_connections=spec.max_concurrency
    )
    timeout = httpx.Timeout(spec.timeout_seconds, connect=spec.connect_timeout_seconds)
    return httpx.AsyncClient(limits=limits, timeout=timeout, trust_env=False)


def _static(headers: dict[str, str]) -> Headers:
    async def give() -> dict[str, str]:
        return headers

    return give


def build_upstream(spec: UpstreamSpec) -> Upstream:
    client = _client(spec)
    if spec.kind == "openai":
        headers = {"Authorization": f"Bearer {spec.api_key}"} if spec.api_key else {}
        assert spec.base_url is not None  # the settings require it
        return OpenAIUpstream(Transport(client, spec.name, _static(headers)), spec.base_url)
    if spec.kind == "vertex":
        assert spec.project is not None and spec.credentials_file is not None
        tokens = ServiceAccountTokens.from_file(spec.credentials_file, client, spec.token_uri)
        endpoint = VertexEndpoint(spec.project, spec.location, spec.base_url)
        return GeminiUpstream(Transport(client, spec.name, tokens.headers), endpoint)
    headers = {"x-goog-api-key": spec.api_key} if spec.api_key else {}
    studio = StudioEndpoint(spec.base_url or AI_STUDIO_URL, spec.api_version)
    return GeminiUpstream(Transport(client, spec.name, _static(headers)), studio)
