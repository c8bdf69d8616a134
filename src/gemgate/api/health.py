"""/healthz: liveness plus whether the default model is loaded and how busy each engine is."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse


def health_router(default_model: str, loaded: Callable[[], dict[str, int]]) -> APIRouter:
    """`loaded` maps each loaded local model id to its busy slot count."""
    router = APIRouter()

    @router.get("/healthz")
    async def healthz() -> JSONResponse:
        models = loaded()
        ready = default_model in models
        body = {
            "status": "ok" if ready else "loading",
            "defaultModel": default_model,
            "models": {name: {"busySlots": busy} for name, busy in models.items()},
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    return router
