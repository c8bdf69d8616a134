"""Files API routes: files.get, files.list, files.delete and download.

Mounted by the app under /gemini and at the root, for every API version. The upload protocol
is api/uploads.py.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from gemgate.api.auth import authenticate
from gemgate.api.body import parse_json, read_body
from gemgate.api.paging import page
from gemgate.core.errors import FailedPrecondition, InvalidArgument
from gemgate.dialects.gemini.files import encode_file, encode_file_list
from gemgate.services.files import FileService
from gemgate.services.keys import KeyService

_DOWNLOAD = ":download"
_REGISTER_LIMIT = 1024 * 1024


def collection_url(request: Request) -> str:
    """The absolute URL of the files collection the request went to, without `upload/`.

    `/gemini/upload/v1beta/files?upload_id=…` and `/gemini/v1beta/files/abc` both give
    `http://host/gemini/v1beta/files`, so a File's uri follows the caller's own base URL.
    """
    path = request.url.path
    head = path[: path.rfind("/files")]
    segments = head.split("/")
    if "upload" in segments:
        del segments[len(segments) - 1 - segments[::-1].index("upload")]
    base = str(request.base_url).rstrip("/")
    return f"{base}{'/'.join(segments)}/files"


def files_router(files: FileService, keys: KeyService) -> APIRouter:
    router = APIRouter()

    @router.get("/files")
    async def list_files(request: Request) -> JSONResponse:
        principal = authenticate(request, keys)
        items, next_token = page(
            files.list(principal.project),
            request.query_params.get("pageSize"),
            request.query_params.get("pageToken"),
        )
        return JSONResponse(encode_file_list(items, collection_url(request), next_token))

    @router.get("/files/{file_id}")
    async def get_file(request: Request, file_id: str) -> Response:
        principal = authenticate(request, keys)
        if file_id.endswith(_DOWNLOAD):
            return await _download(request, files, principal.project, file_id)
        file = files.get(principal.project, file_id)
        return JSONResponse(encode_file(file, collection_url(request)))

    @router.post("/files:register")
    async def register_files(request: Request) -> JSONResponse:
        authenticate(request, keys)
        raise _unreadable(parse_json(await read_body(request, _REGISTER_LIMIT)))

    @router.delete("/files/{file_id}")
    async def delete_file(request: Request, file_id: str) -> JSONResponse:
        principal = authenticate(request, keys)
        files.delete(principal.project, file_id)
        return JSONResponse({})

    return router


def _unreadable(body: dict[str, object]) -> FailedPrecondition | InvalidArgument:
    """files.register_files names Cloud Storage objects; gemgate has no way to read them.

    A local deployment has no Google Cloud Storage access, so each URI is refused by name
    rather than registered as a File whose bytes could never reach a model.
    """
    uris = body.get("uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        return InvalidArgument("uris must be a non-empty list of gs:// URIs.", field="uris")
    return FailedPrecondition(
        f"gemgate cannot read {uris[0]!r}: this deployment has no Google Cloud Storage access. "
        "Upload the bytes with files.upload instead.",
        field="uris[0]",
    )


async def _download(request: Request, files: FileService, project: str, file_id: str) -> Response:
    alt = request.query_params.get("alt", "media")
    if alt != "media":
        raise InvalidArgument(f"Download supports alt=media only, not {alt!r}.", field="alt")
    file = files.get(project, file_id.removesuffix(_DOWNLOAD))
    return StreamingResponse(
        files.stream(file),
        media_type=file.mime_type,
        headers={"Content-Length": str(file.size_bytes)},
    )
