"""An upstream that answers at once with a fixed body: OpenAI chat/completions (plain and
streamed) and Gemini generateContent. What a relay adds on top of it is the relay's cost.

Usage: python bench/instant_upstream.py PORT
"""

from __future__ import annotations

import json
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

USAGE = {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14}
COMPLETION = json.dumps(
    {
        "id": "chatcmpl-instant",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "instant-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello there, friend."},
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }
).encode()


def _chunk(delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
    return {
        "id": "chatcmpl-instant",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "instant-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


STREAM = (
    b"".join(
        b"data: " + json.dumps(event).encode() + b"\n\n"
        for event in [
            _chunk({"role": "assistant", "content": ""}),
            *(_chunk({"content": word}) for word in ("Hello ", "there, ", "friend.")),
            _chunk({}, "stop"),
            {**_chunk({}), "choices": [], "usage": USAGE},
        ]
    )
    + b"data: [DONE]\n\n"
)
GEMINI = json.dumps(
    {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "Hello there, friend."}]},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 5, "totalTokenCount": 14},
        "modelVersion": "instant-model",
        "responseId": "instant",
    }
).encode()


async def chat(request: Request) -> Response:
    body = json.loads(await request.body())
    if body.get("stream"):
        return Response(STREAM, media_type="text/event-stream")
    return Response(COMPLETION, media_type="application/json")


async def gemini(request: Request) -> Response:
    await request.body()
    return Response(GEMINI, media_type="application/json")


async def health(request: Request) -> Response:
    return Response(b"ok")


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1beta/models/{action}", gemini, methods=["POST"]),
        Route("/health", health),
    ]
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
