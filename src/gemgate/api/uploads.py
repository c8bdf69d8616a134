"""The resumable upload protocol on the wire (`POST upload/{v}/files`), as google-genai speaks it.

A start request (with the API key) gets `X-Goog-Upload-URL`: this same URL plus the session's
unguessable token, which alone authorizes the chunks (they carry no key). Every reply on that
URL carries `X-Goog-Upload-Status`; an error ends the exchange with status `final`, so the SDK
stops and raises instead of sending more chunks; `query` tells where to resume.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from gemgate.api.auth import authenticate
from gemgate.api.body import read_model
from gemgate.api.files import collection_url
from gemgate.core.errors import GemgateError, InvalidArgument
from gemgate.core.types import UploadSession
from gemgate.dialects.gemini.errors import error_body
from gemgate.dialects.gemini.files import CreateFileRequest, encode_file
from gemgate.services.keys import KeyService
from gemgate.services.uploads import OFFSET_FIELD, SIZE_FIELD, UploadDraft, UploadService

STATUS = "X-Goog-Upload-Status"
COMMAND = "X-Goog-Upload-Command"
RECEIVED = "X-Goog-Upload-Size-Received"
CHUNK_GRANULARITY = str(8 * 1024 * 1024)


def _int_header(request: Request, name: str) -> int | None:
    raw = request.headers.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise InvalidArgument(f"{name} must be an integer, got {raw!r}.", field=name) from exc


def _commands(request: Request) -> set[str]:
    raw = request.headers.get(COMMAND, "")
    return {c.strip().lower() for c in raw.split(",") if c.strip()}


def uploads_router(uploads: UploadService, keys: KeyService, max_request_bytes: int) -> APIRouter:
    router = APIRouter()
    protocol = _Protocol(uploads, keys, max_request_bytes)

    @router.post("/files")
    async def upload(request: Request) -> Response:
        token = request.query_params.get("upload_id")
        if token is None:
            return await protocol.start(request)
        try:
            return await protocol.chunk(request, token)
        except GemgateError as exc:
            return JSONResponse(
                error_body(exc), status_code=exc.code.http_status, headers={STATUS: "final"}
            )

    return router


class _Protocol:
    def __init__(self, uploads: UploadService, keys: KeyService, max_request_bytes: int) -> None:
        self._uploads = uploads
        self._keys = keys
        self._max_request_bytes = max_request_bytes

    async def start(self, request: Request) -> Response:
        principal = authenticate(request, self._keys)
        protocol = request.headers.get("X-Goog-Upload-Protocol", "").strip().lower()
        if protocol != "resumable":
            raise InvalidArgument(
                "Only the resumable upload protocol is supported "
                "(X-Goog-Upload-Protocol: resumable).",
                field="X-Goog-Upload-Protocol",
            )
        if _commands(request) != {"start"}:
            raise InvalidArgument(f"{COMMAND} must be 'start' to begin an upload.", field=COMMAND)
        body = await read_model(request, CreateFileRequest, self._max_request_bytes)
        meta = body.file
        declared = _int_header(request, SIZE_FIELD)
        draft = UploadDraft(
            name=meta.name if meta else None,
            display_name=(meta.display_name if meta else None) or "",
            mime_type=(meta.mime_type if meta else None)
            or request.headers.get("X-Goog-Upload-Header-Content-Type"),
            declared_bytes=declared if declared is not None else meta.size_bytes if meta else None,
        )
        token, _ = self._uploads.start(principal.project, draft)
        query = urlencode({"upload_id": token, "upload_protocol": "resumable"})
        url = str(request.url.replace(query=query))
        headers = {
            "X-Goog-Upload-URL": url,
            "X-Goog-Upload-Control-URL": url,
            "X-Goog-Upload-Chunk-Granularity": CHUNK_GRANULARITY,
            STATUS: "active",
        }
        return JSONResponse({}, headers=headers)

    async def chunk(self, request: Request, token: str) -> Response:
        session = self._uploads.session(token)
        commands = _commands(request)
        if "cancel" in commands:
            self._uploads.cancel(session)
            return JSONResponse({}, headers={STATUS: "cancelled"})
        if "query" in commands:
            return self._query(request, session)
        if not commands or not commands <= {"upload", "finalize"}:
            raise InvalidArgument(
                f"{COMMAND} must be upload, finalize, 'upload, finalize', query or cancel.",
                field=COMMAND,
            )
        if session.finalized:
            return self._final(request, session)
        if "upload" in commands:
            offset = _int_header(request, OFFSET_FIELD)
            if offset is None:
                raise InvalidArgument(f"{OFFSET_FIELD} is required to upload.", field=OFFSET_FIELD)
            received = await self._uploads.upload(session, offset, request.stream())
        else:
            received = self._uploads.received(session)
        if "finalize" not in commands:
            return JSONResponse({}, headers={STATUS: "active", RECEIVED: str(received)})
        file = await self._uploads.finalize(session)
        return JSONResponse(
            {"file": encode_file(file, collection_url(request))},
            headers={STATUS: "final", RECEIVED: str(file.size_bytes)},
        )

    def _query(self, request: Request, session: UploadSession) -> Response:
        if session.finalized:
            return self._final(request, session)
        received = self._uploads.received(session)
        return JSONResponse({}, headers={STATUS: "active", RECEIVED: str(received)})

    def _final(self, request: Request, session: UploadSession) -> Response:
        file = self._uploads.finished(session)
        return JSONResponse(
            {"file": encode_file(file, collection_url(request))},
            headers={STATUS: "final", RECEIVED: str(file.size_bytes)},
        )
