"""Builds an Upstream for one deployment: its HTTP client, endpoint and credential."""

from __future__ import annotations

from dataclasses import dataclass, field
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
from gemgate.engines.relay.transport import Headers, Limits, Transport
from gemgate.engines.relay.vertex_auth import ServiceAccountTokens


@dataclass(frozen=True)
class UpstreamSpec:
    name: str
    kind: str  # gemini | vertex | openai
    base_url: str | None
    api_key: str | None = field(default=None, repr=False)  # never in a log line
    api_version: str = "v1beta"
    project: str | None = None
    location: str = "us-central1"
    credentials_file: Path | None = None
    token_uri: str | None = None
    max_concurrency: int = 64
    timeout_seconds: float = 120.0
    connect_timeout_seconds: float = 5.0


def _limits(spec: UpstreamSpec) -> Limits:
    # The pool holds as many connections as requests may be in flight to this deployment.
    return Limits(spec.max_concurrency, spec.timeout_seconds, spec.connect_timeout_seconds)


def _static(headers: dict[str, str]) -> Headers:
    async def give() -> dict[str, str]:
        return headers

    return give


def build_upstream(spec: UpstreamSpec) -> Upstream:
    limits = _limits(spec)
    if spec.kind == "openai":
        headers = {"Authorization": f"Bearer {spec.api_key}"} if spec.api_key else {}
        assert spec.base_url is not None  # the settings require it
        return OpenAIUpstream(Transport(spec.name, limits, _static(headers)), spec.base_url)
    if spec.kind == "vertex":
        assert spec.project is not None and spec.credentials_file is not None
        # Token requests are rare (one an hour): httpx is fine there.
        client = httpx.AsyncClient(timeout=spec.connect_timeout_seconds * 4, trust_env=False)
        tokens = ServiceAccountTokens.from_file(spec.credentials_file, client, spec.token_uri)
        endpoint = VertexEndpoint(spec.project, spec.location, spec.base_url)
        return GeminiUpstream(Transport(spec.name, limits, tokens.headers), endpoint, client)
    headers = {"x-goog-api-key": spec.api_key} if spec.api_key else {}
    studio = StudioEndpoint(spec.base_url or AI_STUDIO_URL, spec.api_version)
    return GeminiUpstream(Transport(spec.name, limits, _static(headers)), studio)
