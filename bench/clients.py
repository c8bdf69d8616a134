"""Streaming HTTP clients: one for gemgate's Gemini SSE, one for an OpenAI chat SSE server.

Each returns a `StreamFn` bound to a shared `httpx.Client`. The Gemini client also checks the
shape of what gemgate sends and records anything off in the sample's notes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from measure import StreamFn, StreamSample, StreamTimer
from workload import Workload

TIMEOUT = httpx.Timeout(180.0, connect=5.0)


def http_client(max_streams: int) -> httpx.Client:
    limits = httpx.Limits(max_connections=max_streams + 2, max_keepalive_connections=max_streams)
    return httpx.Client(timeout=TIMEOUT, limits=limits, trust_env=False)


def sse_events(response: httpx.Response) -> Iterator[str]:
    """The `data:` payloads of an SSE stream (multi-line data joined by newlines)."""
    data: list[str] = []
    for line in response.iter_lines():
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif not line and data:
            yield "\n".join(data)
            data = []
    if data:
        yield "\n".join(data)


def server_timing_s(response: httpx.Response) -> float | None:
    """`Server-Timing: app;dur=MS`: gemgate starts a stream's response at its first chunk, so
    this is the server's own share of the time to first token."""
    for metric in response.headers.get("server-timing", "").split(","):
        name, _, params = metric.strip().partition(";")
        if name == "app" and params.startswith("dur="):
            return float(params[4:]) / 1000
    return None


def gemini_stream(client: httpx.Client, base_url: str, model: str, work: Workload) -> StreamFn:
    url = f"{base_url}/v1beta/models/{model}:streamGenerateContent"
    body = work.gemini_body()

    def stream() -> StreamSample:
        timer = StreamTimer()
        check = GeminiStreamCheck()
        with client.stream("POST", url, params={"alt": "sse"}, json=body) as response:
            response.raise_for_status()
            server_ttft = server_timing_s(response)
            for payload in sse_events(response):
                event = json.loads(payload)
                check.event(event)
                timer.content(_gemini_text(event))
        usage = check.last_usage or {}
        return timer.sample(
            usage.get("candidatesTokenCount"),
            prompt_tokens=usage.get("promptTokenCount"),
            finish_reason=check.finish_reason,
            server_ttft=server_ttft,
            notes=check.finish(),
        )

    return stream


def _gemini_text(event: dict[str, Any]) -> str:
    candidates = event.get("candidates") or []
    if not candidates:
        return ""
    parts = (candidates[0].get("content") or {}).get("parts") or []
    return "".join(p.get("text", "") for p in parts if not p.get("thought"))


class GeminiStreamCheck:
    """Checks a streamed GenerateContentResponse sequence against the documented shape."""

    def __init__(self) -> None:
        self.events = 0
        self.notes: set[str] = set()
        self.finish_reason: str | None = None
        self.last_usage: dict[str, Any] | None = None
        self.response_ids: set[str] = set()
        self._last: dict[str, Any] = {}

    def event(self, event: dict[str, Any]) -> None:
        self.events += 1
        self._last = event
        if "error" in event:
            self.notes.add(f"gemini: error event {event['error']}")
            return
        for name in ("modelVersion", "responseId"):
            if name not in event:
                self.notes.add(f"gemini: event without {name}")
        if "responseId" in event:
            self.response_ids.add(event["responseId"])
        if "usageMetadata" in event:
            self.last_usage = event["usageMetadata"]
        candidates = event.get("candidates") or []
        if candidates:
            self._candidate(candidates[0])

    def _candidate(self, cand: dict[str, Any]) -> None:
        content = cand.get("content")
        if content is not None and content.get("role") != "model":
            self.notes.add(f"gemini: content.role is {content.get('role')!r}")
        if cand.get("finishReason"):
            if self.finish_reason is not None:
                self.notes.add("gemini: finishReason on more than one event")
            self.finish_reason = cand["finishReason"]

    def finish(self) -> list[str]:
        last_cands = self._last.get("candidates") or [{}]
        if not last_cands[0].get("finishReason"):
            self.notes.add("gemini: last event has no finishReason")
        usage = self._last.get("usageMetadata")
        if usage is None:
            self.notes.add("gemini: last event has no usageMetadata")
        elif usage.get("cachedContentTokenCount", 0) >= usage.get("promptTokenCount", 1):
            self.notes.add("gemini: every prompt token cached: a replayed (response-cache) answer?")
        elif "candidatesTokenCount" not in usage:
            self.notes.add("gemini: usageMetadata without candidatesTokenCount")
        if len(self.response_ids) > 1:
            self.notes.add("gemini: responseId changes within one stream")
        return sorted(self.notes)


def probe_prompt_tokens(client: httpx.Client, base_url: str, model: str, work: Workload) -> int:
    """The prompt's token count from a one-token non-streaming call (for servers whose
    streams carry no usage)."""
    body = {**work.openai_chat_body(), "model": model, "stream": False, "max_tokens": 1}
    del body["stream_options"]
    reply = client.post(f"{base_url}/v1/chat/completions", json=body)
    reply.raise_for_status()
    count: int = reply.json()["usage"]["prompt_tokens"]
    return count


def openai_chat_stream(
    client: httpx.Client,
    base_url: str,
    model: str,
    work: Workload,
    prompt_tokens: int | None = None,
) -> StreamFn:
    """`prompt_tokens` stands in when the stream reports no usage."""
    url = f"{base_url}/v1/chat/completions"
    body = {**work.openai_chat_body(), "model": model}

    def stream() -> StreamSample:
        timer = StreamTimer()
        usage: dict[str, Any] = {}
        finish: str | None = None
        with client.stream("POST", url, json=body) as response:
            response.raise_for_status()
            for payload in sse_events(response):
                if payload.strip() == "[DONE]":
                    break
                chunk = json.loads(payload)
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    timer.content((choice.get("delta") or {}).get("content") or "")
                    finish = choice.get("finish_reason") or finish
        return timer.sample(
            usage.get("completion_tokens"),
            prompt_tokens=usage.get("prompt_tokens", prompt_tokens),
            finish_reason=finish,
        )

    return stream
