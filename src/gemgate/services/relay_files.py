"""gemgate files in relayed requests: uploaded to the deployment that will read them.

A `fileData` part naming one of the caller's gemgate files (by uri, `files/{id}` or id) is
uploaded through that deployment's Files API on first use and pinned there: later requests
that use the file go to the same deployment (the upstream credential that owns the copy), with
the upstream's uri in place of gemgate's. A reference that is not one of the caller's files
(a `gs://` or an upstream's own uri) goes upstream untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from gemgate.core.errors import FailedPrecondition, GemgateError
from gemgate.core.types import Content, FileDataPart, GenerateRequest, StoredFile
from gemgate.services.files import FileService


def native_file_refs(native: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The fileData objects of a Gemini JSON body (either spelling, any turn)."""
    turns = list(native.get("contents") or [])
    for key in ("systemInstruction", "system_instruction"):
        if isinstance(native.get(key), dict):
            turns.append(native[key])
    for turn in turns:
        for part in turn.get("parts") or []:
            for key in ("fileData", "file_data"):
                if isinstance(part.get(key), dict):
                    yield part[key]


def _uri_key(file_data: dict[str, Any]) -> str:
    return "fileUri" if "fileUri" in file_data else "file_uri"


def references(request: GenerateRequest) -> list[str]:
    if request.native is not None:
        return [str(fd.get(_uri_key(fd), "")) for fd in native_file_refs(request.native)]
    every = (*request.contents, request.system_instruction)
    return [
        p.file_uri for c in every if c is not None for p in c.parts if isinstance(p, FileDataPart)
    ]


def owned_files(files: FileService, project: str, refs: list[str]) -> dict[str, StoredFile]:
    """The references that name the caller's own gemgate files."""
    owned: dict[str, StoredFile] = {}
    for ref in refs:
        try:
            owned[ref] = files.get(project, ref, field="fileData.fileUri")
        except GemgateError:
            continue  # not ours: an upstream uri or gs://, passed on as it is
    return owned


def one_deployment(wanted: set[str]) -> str | None:
    if len(wanted) > 1:
        raise FailedPrecondition(
            "This request uses files or caches held by different upstream deployments "
            f"({', '.join(sorted(wanted))}); they cannot be used together.",
            field="contents",
        )
    return next(iter(wanted), None)


def rewritten(request: GenerateRequest, uris: dict[str, str]) -> GenerateRequest:
    """The request with each gemgate file reference replaced by the upstream's uri."""
    if request.native is not None:
        native = _copy_turns(request.native)
        for fd in native_file_refs(native):
            key = _uri_key(fd)
            fd[key] = uris.get(fd.get(key, ""), fd.get(key))
        return replace(request, native=native)

    def content(c: Content) -> Content:
        parts = tuple(
            replace(p, file_uri=uris.get(p.file_uri, p.file_uri))
            if isinstance(p, FileDataPart)
            else p
            for p in c.parts
        )
        return Content(c.role, parts)

    system = request.system_instruction
    return replace(
        request,
        contents=tuple(content(c) for c in request.contents),
        system_instruction=content(system) if system is not None else None,
    )


def _copy_turns(native: dict[str, Any]) -> dict[str, Any]:
    """A copy deep enough to rewrite fileData without touching the caller's body."""
    out = dict(native)
    for key in ("contents", "systemInstruction", "system_instruction"):
        if key in out:
            out[key] = _deep(out[key])
    return out


def _deep(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep(v) for v in value]
    return value
