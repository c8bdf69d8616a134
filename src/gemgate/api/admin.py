"""The admin API (/admin/v1): keys (list, create, get, revoke, rotate) and usage reports.

Guarded by the `admin_key` setting, sent as `Authorization: Bearer` or `x-admin-key` and
compared by hash in constant time. With no admin key configured the app does not mount this
router at all, so every admin path is a plain 404: an unconfigured server does not even
admit the API exists (a 403 would invite guessing at a key that cannot work).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from gemgate.api.body import read_model
from gemgate.core.errors import InvalidArgument, NotFound, Unauthenticated
from gemgate.core.ports import ApiKeyRecord, KeyLimits, UsageTotals
from gemgate.services.keys import KeyService, hash_secret
from gemgate.services.usage import UsageLedger

ADMIN_PREFIX = "/admin/v1"
_MAX_BODY = 64 * 1024
_GROUPS = ("key", "model", "day")


class CreateKeyRequest(BaseModel):
    """POST /admin/v1/keys."""

    model_config = ConfigDict(extra="forbid")

    project: Annotated[str, Field(min_length=1, max_length=128)]
    name: Annotated[str, Field(max_length=128)] = ""
    rpm: Annotated[int | None, Field(ge=1)] = None
    tpm: Annotated[int | None, Field(ge=1)] = None
    dailyTokens: Annotated[int | None, Field(ge=1)] = None
    budgetUsd: Annotated[float | None, Field(ge=0)] = None
    models: list[str] = []


def encode_key(record: ApiKeyRecord) -> dict[str, Any]:
    limits = record.limits
    return {
        "id": record.id,
        "project": record.project,
        "name": record.name,
        "prefix": record.prefix,
        "createTime": _iso(record.created_at),
        "revokeTime": None if record.revoked_at is None else _iso(record.revoked_at),
        "rpm": limits.rpm,
        "tpm": limits.tpm,
        "dailyTokens": limits.daily_tokens,
        "budgetUsd": limits.budget_usd,
        "models": list(limits.models),
    }


def encode_totals(totals: UsageTotals) -> dict[str, Any]:
    return {
        "group": totals.group,
        "requests": totals.requests,
        "errors": totals.errors,
        "promptTokens": totals.prompt_tokens,
        "cachedTokens": totals.cached_tokens,
        "candidatesTokens": totals.candidates_tokens,
        "thoughtsTokens": totals.thoughts_tokens,
        "costUsd": round(totals.cost_usd, 9),
    }


def _iso(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))


def _presented(request: Request) -> str:
    header = request.headers.get("x-admin-key")
    if header:
        return header.strip()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _report_args(request: Request, default: str) -> tuple[str, float]:
    by = request.query_params.get("by", default)
    if by not in _GROUPS:
        raise InvalidArgument(f"by must be one of {', '.join(_GROUPS)}, not '{by}'.", field="by")
    raw = request.query_params.get("since", "0")
    try:
        since = float(raw)
    except ValueError as exc:
        message = f"since must be a Unix time in seconds, not '{raw}'."
        raise InvalidArgument(message, field="since") from exc
    return by, since


def admin_router(keys: KeyService, ledger: UsageLedger, admin_hash: str) -> APIRouter:
    router = APIRouter()
    handlers = _Handlers(keys, ledger, admin_hash)
    router.add_api_route("/keys", handlers.list_keys, methods=["GET"])
    router.add_api_route("/keys", handlers.create_key, methods=["POST"])
    router.add_api_route("/keys/{key_id}", handlers.get_key, methods=["GET"])
    router.add_api_route("/keys/{key_id}:revoke", handlers.revoke_key, methods=["POST"])
    router.add_api_route("/keys/{key_id}:rotate", handlers.rotate_key, methods=["POST"])
    router.add_api_route("/keys/{key_id}/usage", handlers.key_usage, methods=["GET"])
    router.add_api_route("/usage", handlers.usage, methods=["GET"])
    return router


class _Handlers:
    def __init__(self, keys: KeyService, ledger: UsageLedger, admin_hash: str) -> None:
        self._keys = keys
        self._ledger = ledger
        self._admin_hash = admin_hash

    def _guard(self, request: Request) -> None:
        if not hmac.compare_digest(hash_secret(_presented(request)), self._admin_hash):
            raise Unauthenticated("A valid admin key is required.")

    def _found(self, key_id: str) -> ApiKeyRecord:
        record = self._keys.get(key_id)
        if record is None:
            raise NotFound(f"No key with id '{key_id}'.", field="id")
        return record

    async def list_keys(self, request: Request) -> JSONResponse:
        self._guard(request)
        return JSONResponse({"keys": [encode_key(r) for r in self._keys.list()]})

    async def create_key(self, request: Request) -> JSONResponse:
        self._guard(request)
        body = await read_model(request, CreateKeyRequest, _MAX_BODY)
        limits = KeyLimits(body.rpm, body.tpm, body.dailyTokens, body.budgetUsd, tuple(body.models))
        record, secret = self._keys.create(body.project, body.name, limits)
        return JSONResponse({"key": encode_key(record), "secret": secret})

    async def get_key(self, request: Request, key_id: str) -> JSONResponse:
        self._guard(request)
        return JSONResponse(encode_key(self._found(key_id)))

    async def revoke_key(self, request: Request, key_id: str) -> JSONResponse:
        self._guard(request)
        self._found(key_id)
        self._keys.revoke(key_id)  # revoking a revoked key changes nothing and is not an error
        return JSONResponse(encode_key(self._found(key_id)))

    async def rotate_key(self, request: Request, key_id: str) -> JSONResponse:
        self._guard(request)
        self._found(key_id)
        rotated = self._keys.rotate(key_id)
        if rotated is None:
            raise InvalidArgument(f"Key '{key_id}' is revoked; it cannot be rotated.", field="id")
        record, secret = rotated
        return JSONResponse({"key": encode_key(record), "secret": secret})

    async def usage(self, request: Request) -> JSONResponse:
        self._guard(request)
        by, since = _report_args(request, "key")
        key_id = request.query_params.get("keyId")
        rows = await asyncio.to_thread(self._ledger.summary, by, since, key_id)
        return JSONResponse({"by": by, "usage": [encode_totals(t) for t in rows]})

    async def key_usage(self, request: Request, key_id: str) -> JSONResponse:
        self._guard(request)
        self._found(key_id)
        by, since = _report_args(request, "model")
        rows = await asyncio.to_thread(self._ledger.summary, by, since, key_id)
        return JSONResponse({"by": by, "usage": [encode_totals(t) for t in rows]})
