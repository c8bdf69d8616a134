"""Files API wire shapes: the upload start body (as the SDK sends it) and the File resource.

Pure: validation and encoding only.
"""

from __future__ import annotations

import base64
from typing import Any

from gemgate.core import types as core
from gemgate.dialects.gemini.encode import timestamp
from gemgate.dialects.gemini.schemas import WireModel


class FileMetadata(WireModel):
    """The `file` of a start request: snake_case from the SDK, camelCase from others."""

    name: str | None = None
    display_name: str | None = None
    mime_type: str | None = None
    size_bytes: int | None = None


class CreateFileRequest(WireModel):
    file: FileMetadata | None = None


def encode_file(file: core.StoredFile, collection_url: str) -> dict[str, Any]:
    """collection_url is the absolute URL of the files collection, e.g. http://h/v1beta/files."""
    uri = f"{collection_url}/{file.id}"
    out: dict[str, Any] = {
        "name": f"files/{file.id}",
        "mimeType": file.mime_type,
        "sizeBytes": str(file.size_bytes),
        "createTime": timestamp(file.create_time),
        "updateTime": timestamp(file.update_time),
        "expirationTime": timestamp(file.expire_time),
        "sha256Hash": base64.b64encode(file.sha256).decode("ascii"),
        "uri": uri,
        "downloadUri": f"{uri}:download?alt=media",
        "state": file.state.value,
        "source": file.source,
    }
    if file.display_name:
        out["displayName"] = file.display_name
    return out


def encode_file_list(
    files: list[core.StoredFile], collection_url: str, next_token: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {"files": [encode_file(f, collection_url) for f in files]}
    if next_token:
        out["nextPageToken"] = next_token
    return out
