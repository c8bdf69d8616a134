"""Uploaded files (Files API): get, list, delete, read, expire — each file owned by one project.

A file of another project, an expired file and a missing file look the same to a caller: not
found. Uploads themselves are services/uploads.py; this module owns finished files.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from gemgate.core.errors import InvalidArgument, NotFound
from gemgate.core.ports import BlobStore, FileStore
from gemgate.core.types import StoredFile

FILE_PREFIX = "files/"
_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


@dataclass(frozen=True)
class FileLimits:
    max_file_bytes: int = 2 * 1024**3
    max_project_bytes: int = 20 * 1024**3
    ttl_seconds: float = 48 * 3600.0


def file_id_of(reference: str, field: str = "name") -> str:
    """The id in `files/{id}`, a bare id, or a URI ending in `/files/{id}`."""
    ref = reference.strip()
    ref = ref.split("?", 1)[0].removesuffix(":download")
    if "/files/" in ref:
        ref = ref.rsplit("/files/", 1)[1]
    ref = ref.removeprefix(FILE_PREFIX)
    if not _ID.match(ref):
        raise InvalidArgument(
            f"{field} {reference!r} does not name a file: use files/{{id}} or the file's uri.",
            field=field,
        )
    return ref


def check_file_id(file_id: str, field: str) -> str:
    if not _ID.match(file_id):
        raise InvalidArgument(
            f"{field} must be lowercase letters, digits and dashes (at most 40), "
            f"not starting or ending with a dash; got {file_id!r}.",
            field=field,
        )
    return file_id


def not_found(name: str, field: str = "name") -> NotFound:
    why = "does not exist or is not yours (it may have expired or been deleted)"
    if field == "name":
        return NotFound(f"File {name} {why}.", field=field)
    return NotFound(f"{field} refers to File {name}, which {why}.", field=field)


class FileService:
    def __init__(
        self,
        store: FileStore,
        blobs: BlobStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._clock = clock

    def get(self, project: str, reference: str, field: str = "name") -> StoredFile:
        file_id = file_id_of(reference, field)
        file = self._store.get_file(file_id)
        if file is None or file.project != project or file.expire_time <= self._clock():
            raise not_found(FILE_PREFIX + file_id, field)
        return file

    def list(self, project: str) -> list[StoredFile]:
        now = self._clock()
        return [f for f in self._store.list_files(project) if f.expire_time > now]

    def delete(self, project: str, reference: str) -> None:
        file = self.get(project, reference)
        # The row goes first: once it is gone no request can find the bytes.
        if self._store.delete_file(file.id):
            self._blobs.delete(file.id)

    async def read(self, file: StoredFile) -> bytes:
        return await self._blobs.read(file.id)

    def stream(self, file: StoredFile) -> AsyncIterator[bytes]:
        return self._blobs.stream(file.id)

    async def sweep(self) -> int:
        """Delete expired files (rows, then bytes); returns how many went."""
        return await asyncio.to_thread(self._sweep)

    def _sweep(self) -> int:
        removed = 0
        for file in self._store.expired_files(self._clock()):
            if self._store.delete_file(file.id):
                self._blobs.delete(file.id)
                removed += 1
        return removed
