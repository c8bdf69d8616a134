"""File bytes on local disk: core.ports.BlobStore.

Partial uploads live under `partial/` with names no listing ever shows; a commit fsyncs the
partial file, hashes it, and renames it into `blobs/` in one step. A crash at any moment leaves
either no blob or a complete one. Blocking file work runs in worker threads, a bounded buffer
at a time, so a 2 GB upload never sits in memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import BinaryIO

_BUFFER = 1024 * 1024
_READ = 1024 * 1024


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _hash_and_sync(path: Path) -> tuple[int, bytes]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(_READ):
            digest.update(block)
            size += len(block)
        os.fsync(handle.fileno())
    return size, digest.digest()


def _sync_and_close(handle: BinaryIO) -> None:
    """What `received` reports must survive a power cut, or a resumed upload would have holes."""
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


def _open_at(path: Path, offset: int) -> BinaryIO:
    """The partial file opened for writing at offset; anything after offset is cut.

    Writing again from an earlier offset is how a chunk whose reply was lost is re-sent.
    """
    handle = path.open("r+b" if path.exists() else "w+b")
    handle.truncate(offset)
    handle.seek(offset)
    return handle


class DiskBlobStore:
    def __init__(self, root: Path) -> None:
        self._partial = root / "partial"
        self._blobs = root / "blobs"
        self._partial.mkdir(parents=True, exist_ok=True)
        self._blobs.mkdir(parents=True, exist_ok=True)

    def _partial_path(self, upload_id: str) -> Path:
        return self._partial / f"{upload_id}.part"

    def _blob_path(self, blob_id: str) -> Path:
        return self._blobs / blob_id

    def received(self, upload_id: str) -> int:
        try:
            return self._partial_path(upload_id).stat().st_size
        except FileNotFoundError:
            return 0

    async def write(self, upload_id: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        if offset > self.received(upload_id):
            raise ValueError(f"offset {offset} is past the bytes received")
        handle = await asyncio.to_thread(_open_at, self._partial_path(upload_id), offset)
        buffer = bytearray()
        try:
            async for chunk in chunks:
                buffer += chunk
                if len(buffer) >= _BUFFER:
                    await asyncio.to_thread(handle.write, bytes(buffer))
                    buffer.clear()
        finally:
            # Whatever arrived before a failure or disconnect is kept: the client resumes
            # from the size `received` reports.
            if buffer:
                await asyncio.to_thread(handle.write, bytes(buffer))
            await asyncio.to_thread(_sync_and_close, handle)
        return self.received(upload_id)

    async def commit(self, upload_id: str, blob_id: str) -> tuple[int, bytes]:
        partial = self._partial_path(upload_id)
        if not partial.exists():
            await asyncio.to_thread(partial.touch)  # a 0-byte upload
        size, digest = await asyncio.to_thread(_hash_and_sync, partial)
        await asyncio.to_thread(os.replace, partial, self._blob_path(blob_id))
        await asyncio.to_thread(_fsync_dir, self._blobs)
        return size, digest

    async def read(self, blob_id: str) -> bytes:
        return await asyncio.to_thread(self._blob_path(blob_id).read_bytes)

    async def stream(self, blob_id: str) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(self._blob_path(blob_id).open, "rb")
        try:
            while block := await asyncio.to_thread(handle.read, _READ):
                yield block
        finally:
            await asyncio.to_thread(handle.close)

    def delete(self, blob_id: str) -> None:
        self._blob_path(blob_id).unlink(missing_ok=True)

    def discard(self, upload_id: str) -> None:
        self._partial_path(upload_id).unlink(missing_ok=True)
