"""A stand-in for the EXTERNAL upstreams gemgate relays to: a small real HTTP server on loopback.

It speaks Google's Gemini REST (AI Studio paths and Vertex AI's publisher-model paths, with an
OAuth2 token endpoint that checks the service account's signed JWT) and OpenAI's
chat/completions and embeddings. Each deployment lives under its own path prefix
(`/{dep}/v1beta/models/...`, `/{dep}/v1/chat/completions`), so one server plays many
deployments. It records what it received and can be told to fail, hang or break a stream.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from google.auth import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.serving import free_port

SIGNATURE = base64.b64encode(b"\x00\x01upstream-signature\xfe\xff").decode()
ACCESS_TOKEN = "ya29.fake-access-token"


@dataclass(frozen=True)
class Fault:
    status: int = 500
    retry_after: str | None = None
    hang: float = 0.0  # seconds before answering at all
    mid_stream: bool = False  # send one chunk, then break the stream


@dataclass(frozen=True)
class Received:
    deployment: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class FakeUpstream:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    faults: dict[str, deque[Fault]] = field(default_factory=lambda: defaultdict(deque))
    delay: dict[str, float] = field(default_factory=dict)  # per deployment, for every answer
    in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    max_in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    public_key: str = ""  # the Vertex service account's, PEM
    tokens_issued: int = 0
    caches: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    files: dict[str, dict[str, bytes]] = field(default_factory=lambda: defaultdict(dict))

    def fail(self, deployment: str, *faults: Fault) -> None:
        self.faults[deployment].extend(faults)

    def requests(self, deployment: str) -> list[Received]:
        return [r for r in self.received if r.deployment == deployment]

    def base(self, deployment: str) -> str:
        return f"{self.url}/{deployment}"


def _last_user_text(contents: list[dict[str, Any]]) -> str:
    for content in reversed(contents):
        for part in content.get("parts", []):
            if "text" in part and content.get("role", "user") == "user":
                return str(part["text"])
    return ""


def gemini_answer(model: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """A thought, then the echoed question in two pieces: one chunk each when streamed."""
    text = _last_user_text(body.get("contents", []))
    usage = {
        "promptTokenCount": 7,
        "candidatesTokenCount": 3,
        "thoughtsTokenCount": 4,
        "totalTokenCount": 14,
    }
    parts = [
        {"text": "Considering.", "thought": True},
        {"text": "echo: ", "thoughtSignature": SIGNATURE},
        {"text": text},
    ]
    meta = {"modelVersion": f"{model}-upstream-001", "responseId": "fake-response-1"}
    chunks = [
        {"candidates": [{"content": {"role": "model", "parts": [p]}, "index": 0}], **meta}
        for p in parts
    ]
    chunks[-1]["candidates"][0]["finishReason"] = "STOP"
    chunks[-1]["usageMetadata"] = usage
    return chunks


def gemini_whole(model: str, body: dict[str, Any]) -> dict[str, Any]:
    chunks = gemini_answer(model, body)
    parts = [c["candidates"][0]["content"]["parts"][0] for c in chunks]
    out = dict(chunks[-1])
    out["candidates"] = [
        {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
    ]
    return out


def openai_chunks(model: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    last = next(m for m in reversed(body["messages"]) if m["role"] in ("user", "tool"))
    text = last["content"] if isinstance(last["content"], str) else json.dumps(last["content"])
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": model}

    def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    return [
        choice({"role": "assistant", "content": ""}),
        choice({"content": "echo: "}),
        choice({"content": text}),
        choice({}, "stop"),
        {**base, "choices": [], "usage": usage},
    ]


def openai_whole(model: str, body: dict[str, Any]) -> dict[str, Any]:
    chunks = openai_chunks(model, body)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:3])
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": chunks[-1]["usage"],
    }


def vector(text: str, dims: int = 8) -> list[float]:
    return [round((len(text) + i) / 100, 4) for i in range(dims)]


def _sse(events: list[dict[str, Any]], openai: bool) -> bytes:
    out = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
    return out + (b"data: [DONE]\n\n" if openai else b"")


class _Handlers:
    def __init__(self, fake: FakeUpstream) -> None:
        self.fake = fake

    async def _record(self, request: Request) -> tuple[str, dict[str, Any]]:
        dep = request.path_params["dep"]
        body = json.loads(await request.body() or b"{}")
        self.fake.received.append(
            Received(dep, request.url.path, dict(request.headers), body, time.monotonic())
        )
        return dep, body

    @contextmanager
    def _counted(self, dep: str) -> Iterator[None]:
        self.fake.in_flight[dep] += 1
        self.fake.max_in_flight[dep] = max(self.fake.max_in_flight[dep], self.fake.in_flight[dep])
        try:
            yield
        finally:
            self.fake.in_flight[dep] -= 1

    async def _fault(self, dep: str) -> Fault | None:
        queue = self.fake.faults.get(dep)
        fault = queue.popleft() if queue else None
        if fault is not None and fault.hang:
            await asyncio.sleep(fault.hang)
        await asyncio.sleep(self.fake.delay.get(dep, 0.0))
        return fault

    def _error(self, fault: Fault) -> Response:
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        body = {"error": {"code": fault.status, "message": f"injected {fault.status}"}}
        return JSONResponse(body, status_code=fault.status, headers=headers)

    async def gemini(self, request: Request) -> Response:
        dep, body = await self._record(request)
        if "project" in request.path_params and (
            request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}"
        ):
            return JSONResponse({"error": {"code": 401, "message": "no token"}}, 401)
        model, _, method = request.path_params["action"].rpartition(":")
        cache = body.get("cachedContent")
        if cache is not None and cache not in self.fake.caches[dep]:
            return JSONResponse({"error": {"code": 404, "message": f"no {cache} here"}}, 404)
        for content in body.get("contents", []):
            for part in content.get("parts", []):
                data = part.get("fileData") or part.get("file_data") or {}
                uri = data.get("fileUri") or data.get("file_uri")
                if uri is not None and uri not in self.fake.files[dep]:
                    return JSONResponse({"error": {"code": 400, "message": f"no {uri}"}}, 400)
        with self._counted(dep):
            fault = await self._fault(dep)
            if fault is not None and not fault.mid_stream:
                return self._error(fault)
            if method == "streamGenerateContent":
                chunks = gemini_answer(model, body)
                if fault is not None:  # mid-stream: one chunk, then an in-band error
                    error = {"error": {"code": 500, "message": "broke mid-stream"}}
                    chunks = [chunks[0], error]
                return Response(_sse(chunks, False), media_type="text/event-stream")
            return JSONResponse(self._gemini_method(model, method, body))

    def _gemini_method(self, model: str, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "generateContent":
            return gemini_whole(model, body)
        if method == "countTokens":
            return {"totalTokens": 11 + len(json.dumps(body)) % 7}
        if method == "batchEmbedContents":
            texts = [r["content"]["parts"][0]["text"] for r in body["requests"]]
            return {"embeddings": [{"values": vector(t)} for t in texts]}
        if method == "predict":
            return {
                "predictions": [
                    {
                        "embeddings": {
                            "values": vector(i["content"]),
                            "statistics": {"token_count": 2},
                        }
                    }
                    for i in body["instances"]
                ]
            }
        return {"error": {"code": 404, "message": f"no method {method}"}}

    async def model(self, request: Request) -> Response:
        name = request.path_params["action"]
        return JSONResponse(
            {
                "name": f"models/{name}",
                "version": "001",
                "displayName": f"Upstream {name}",
                "inputTokenLimit": 1048576,
                "outputTokenLimit": 65536,
                "supportedGenerationMethods": ["generateContent", "countTokens"],
                "thinking": True,
            }
        )

    async def create_cache(self, request: Request) -> Response:
        dep, body = await self._record(request)
        name = f"cachedContents/up-{dep}-{len(self.fake.caches[dep]) + 1}"
        self.fake.caches[dep][name] = body
        answer = {"name": name, "model": body["model"], "usageMetadata": {"totalTokenCount": 1234}}
        return JSONResponse(answer)

    async def cache(self, request: Request) -> Response:
        dep, body = await self._record(request)
        name = f"cachedContents/{request.path_params['cache']}"
        if name not in self.fake.caches[dep]:
            return JSONResponse({"error": {"code": 404, "message": f"no {name}"}}, 404)
        if request.method == "DELETE":
            del self.fake.caches[dep][name]
            return JSONResponse({})
        self.fake.caches[dep][name] |= body
        return JSONResponse({"name": name, **self.fake.caches[dep][name]})

    async def upload_start(self, request: Request) -> Response:
        dep, body = await self._record(request)
        assert request.headers["x-goog-upload-command"] == "start"
        assert body["file"]["displayName"]
        session = f"{self.fake.url}/{dep}/upload-session/{len(self.fake.received)}"
        return JSONResponse({}, headers={"X-Goog-Upload-URL": session})

    async def upload_finish(self, request: Request) -> Response:
        dep = request.path_params["dep"]
        data = await request.body()
        assert request.headers["x-goog-upload-command"] == "upload, finalize"
        name = f"files/up-{request.path_params['session']}"
        uri = f"{self.fake.url}/{dep}/v1beta/{name}"
        self.fake.files[dep][uri] = data
        return JSONResponse({"file": {"name": name, "uri": uri, "sizeBytes": str(len(data))}})

    async def chat(self, request: Request) -> Response:
        dep, body = await self._record(request)
        with self._counted(dep):
            fault = await self._fault(dep)
            if fault is not None:
                return self._error(fault)
            if body.get("stream"):
                chunks = openai_chunks(body["model"], body)
                return Response(_sse(chunks, True), media_type="text/event-stream")
            return JSONResponse(openai_whole(body["model"], body))

    async def embeddings(self, request: Request) -> Response:
        _, body = await self._record(request)
        data = [
            {"object": "embedding", "index": i, "embedding": vector(t)}
            for i, t in enumerate(body["input"])
        ]
        usage = {"prompt_tokens": 4, "total_tokens": 4}
        return JSONResponse(
            {"object": "list", "data": data, "model": body["model"], "usage": usage}
        )

    async def token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        try:
            claims = jwt.decode(
                str(form["assertion"]), certs=self.fake.public_key, audience=str(request.url)
            )
        except ValueError as exc:
            return JSONResponse({"error": "invalid_grant", "error_description": str(exc)}, 400)
        assert claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"
        self.fake.tokens_issued += 1
        return JSONResponse(
            {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"}
        )


def _app(fake: FakeUpstream) -> Starlette:
    h = _Handlers(fake)
    return Starlette(
        routes=[
            Route("/{dep}/token", h.token, methods=["POST"]),
            Route("/{dep}/v1beta/models/{action}", h.gemini, methods=["POST"]),
            Route("/{dep}/v1beta/models/{action}", h.model, methods=["GET"]),
            Route("/{dep}/v1beta/cachedContents", h.create_cache, methods=["POST"]),
            Route("/{dep}/upload/v1beta/files", h.upload_start, methods=["POST"]),
            Route("/{dep}/upload-session/{session}", h.upload_finish, methods=["POST"]),
            Route("/{dep}/v1beta/cachedContents/{cache}", h.cache, methods=["PATCH", "DELETE"]),
            Route(
                "/{dep}/v1/projects/{project}/locations/{location}/publishers/google/models/{action}",
                h.gemini,
                methods=["POST"],
            ),
            Route("/{dep}/v1/chat/completions", h.chat, methods=["POST"]),
            Route("/{dep}/v1/embeddings", h.embeddings, methods=["POST"]),
        ]
    )


@contextmanager
def running_upstream(public_key: str = "") -> Iterator[FakeUpstream]:
    fake = FakeUpstream(public_key=public_key)
    port = free_port()
    config = uvicorn.Config(
        _app(fake), host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fake-upstream", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def aiter_all(chunks: AsyncIterator[Any]) -> list[Any]:
    return [chunk async for chunk in chunks]


def service_account(token_uri: str) -> tuple[dict[str, Any], str]:
    """A fresh service-account key (as Google's JSON key file) and its public key (PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    info = {
        "type": "service_account",
        "project_id": "fake-project",
        "private_key_id": "k1",
        "private_key": private,
        "client_email": "relay@fake-project.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    return info, public
