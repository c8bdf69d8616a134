"""The resumable upload state machine: start → upload chunks at offsets → finalize (or cancel).

A session is named by an unguessable token (only its hash is stored), because chunks arrive
without an API key. Bytes go to the blob store's partial area; the file appears — row and
blob — only at finalize, after its size is checked and its SHA-256 computed. A session
survives restarts: `received` is what the blob store holds, so a client resumes from there.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass

from gemgate.core.errors import InvalidArgument, NotFound
from gemgate.core.ports import BlobStore, FileStore
from gemgate.core.types import FileState, StoredFile, UploadSession
from gemgate.services.files import FILE_PREFIX, FileLimits, check_file_id, not_found

DEFAULT_MIME = "application/octet-stream"
SIZE_FIELD = "X-Goog-Upload-Header-Content-Length"
OFFSET_FIELD = "X-Goog-Upload-Offset"
# The store's column widths (PostgreSQL refuses longer text; SQLite would keep it).
_TEXT_LIMITS = (("display_name", "file.displayName", 512), ("mime_type", "file.mimeType", 256))


@dataclass(frozen=True)
class UploadDraft:
    """What a start request asks for."""

    name: str | None = None
    display_name: str = ""
    mime_type: str | None = None
    declared_bytes: int | None = None


def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _capped(chunks: AsyncIterable[bytes], start: int, limit: int) -> AsyncIterator[bytes]:
    total = start
    async for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise InvalidArgument(
                f"The upload is larger than its limit of {limit} bytes.", field="body"
            )
        yield chunk


class UploadService:
    def __init__(
        self,
        store: FileStore,
        blobs: BlobStore,
        limits: FileLimits,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._limits = limits
        self._clock = clock
        self._locks: dict[str, asyncio.Lock] = {}

    def start(self, project: str, draft: UploadDraft) -> tuple[str, UploadSession]:
        """Open a session; returns its token (to put in the upload URL) and the session."""
        for attribute, field, limit in _TEXT_LIMITS:
            if len(getattr(draft, attribute) or "") > limit:
                raise InvalidArgument(f"{field} is longer than {limit} characters.", field=field)
        self._check_limits(project, draft.declared_bytes)
        file_id = self._new_file_id(draft.name)
        now = self._clock()
        token = secrets.token_urlsafe(32)
        session = UploadSession(
            id=_session_id(token),
            project=project,
            file_id=file_id,
            display_name=draft.display_name,
            mime_type=draft.mime_type or DEFAULT_MIME,
            declared_bytes=draft.declared_bytes,
            create_time=now,
            expire_time=now + self._limits.ttl_seconds,
        )
        self._store.add_upload(session)
        return token, session

    def _check_limits(self, project: str, declared: int | None) -> None:
        if declared is None:
            return
        if declared < 0:
            raise InvalidArgument(f"{SIZE_FIELD} must not be negative.", field=SIZE_FIELD)
        if declared > self._limits.max_file_bytes:
            raise InvalidArgument(
                f"File size {declared} bytes exceeds the limit of "
                f"{self._limits.max_file_bytes} bytes per file.",
                field=SIZE_FIELD,
            )
        used = self._store.project_bytes(project)
        if used + declared > self._limits.max_project_bytes:
            raise InvalidArgument(
                f"This project stores {used} bytes of files; {declared} more would exceed its "
                f"limit of {self._limits.max_project_bytes} bytes. Delete files first.",
                field=SIZE_FIELD,
            )

    def _new_file_id(self, name: str | None) -> str:
        if not name:
            return secrets.token_hex(8)
        file_id = check_file_id(name.removeprefix(FILE_PREFIX), "file.name")
        if self._store.get_file(file_id) is not None:
            raise InvalidArgument(f"File {FILE_PREFIX}{file_id} already exists.", field="file.name")
        return file_id

    def session(self, token: str) -> UploadSession:
        session = self._store.get_upload(_session_id(token))
        if session is None or session.expire_time <= self._clock():
            raise NotFound("The upload session does not exist or has expired.", field="upload_id")
        return session

    def received(self, session: UploadSession) -> int:
        return self._blobs.received(session.id)

    def _lock(self, session: UploadSession) -> asyncio.Lock:
        return self._locks.setdefault(session.id, asyncio.Lock())

    async def upload(
        self, session: UploadSession, offset: int, chunks: AsyncIterable[bytes]
    ) -> int:
        """Write a chunk at offset; returns the bytes received so far."""
        async with self._lock(session):
            received = self.received(session)
            if offset < 0 or offset > received:
                raise InvalidArgument(
                    f"{OFFSET_FIELD} is {offset} but {received} bytes have been received; "
                    f"query the upload and resume from byte {received}.",
                    field=OFFSET_FIELD,
                )
            limit = min(
                session.declared_bytes
                if session.declared_bytes is not None
                else self._limits.max_file_bytes,
                self._limits.max_file_bytes,
            )
            return await self._blobs.write(session.id, offset, _capped(chunks, offset, limit))

    async def finalize(self, session: UploadSession) -> StoredFile:
        async with self._lock(session):
            if session.finalized or self._store.get_file(session.file_id) is not None:
                return self.finished(session)
            received = self.received(session)
            declared = session.declared_bytes
            if declared is not None and received != declared:
                raise InvalidArgument(
                    f"The upload declared {declared} bytes but {received} have been received.",
                    field=SIZE_FIELD,
                )
            if declared is None:
                self._check_limits(session.project, received)
            size, digest = await self._blobs.commit(session.id, session.file_id)
            now = self._clock()
            file = StoredFile(
                id=session.file_id,
                project=session.project,
                display_name=session.display_name,
                mime_type=session.mime_type,
                size_bytes=size,
                sha256=digest,
                create_time=now,
                update_time=now,
                expire_time=now + self._limits.ttl_seconds,
                state=FileState.ACTIVE,
            )
            self._store.add_file(file)
            self._store.finish_upload(session.id)
        self._locks.pop(session.id, None)
        return file

    def finished(self, session: UploadSession) -> StoredFile:
        """The file a finalized session made (a retried finalize gets the same answer)."""
        file = self._store.get_file(session.file_id)
        if file is None or file.project != session.project:
            raise not_found(FILE_PREFIX + session.file_id)
        return file

    def cancel(self, session: UploadSession) -> None:
        self._store.delete_upload(session.id)
        self._blobs.discard(session.id)
        self._locks.pop(session.id, None)

    async def sweep(self) -> int:
        """Forget expired sessions and their partial bytes; returns how many went."""
        return await asyncio.to_thread(self._sweep)

    def _sweep(self) -> int:
        removed = 0
        for session in self._store.expired_uploads(self._clock()):
            self._blobs.discard(session.id)
            removed += int(self._store.delete_upload(session.id))
        return removed
