"""The upload state machine, file ownership and expiry, over SQLite and a temp directory."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gemgate.core.errors import InvalidArgument, NotFound
from gemgate.services.files import FileLimits, FileService, file_id_of
from gemgate.services.uploads import UploadDraft, UploadService
from gemgate.store.blobs import DiskBlobStore
from gemgate.store.database import open_database
from gemgate.store.files import SqlFileStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    files: FileService
    uploads: UploadService
    clock: Clock
    root: Path


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    store = SqlFileStore(open_database(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    blobs = DiskBlobStore(tmp_path / "files")
    clock = Clock()
    limits = FileLimits(max_file_bytes=100, max_project_bytes=150, ttl_seconds=60)
    return Rig(
        FileService(store, blobs, clock),
        UploadService(store, blobs, limits, clock),
        clock,
        tmp_path,
    )


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_chunks_then_finalize_make_one_file_with_its_sha256(rig: Rig) -> None:
    _, session = rig.uploads.start("p", UploadDraft(mime_type="text/plain", declared_bytes=10))
    assert await rig.uploads.upload(session, 0, _chunks(b"hello", b" ")) == 6
    assert rig.files.list("p") == []  # nothing visible before finalize
    assert await rig.uploads.upload(session, 6, _chunks(b"you!")) == 10
    file = await rig.uploads.finalize(session)
    assert file.size_bytes == 10
    assert file.sha256 == hashlib.sha256(b"hello you!").digest()
    assert await rig.files.read(file) == b"hello you!"
    assert [f.id for f in rig.files.list("p")] == [file.id]


async def test_a_resent_chunk_replaces_what_followed_its_offset(rig: Rig) -> None:
    _, session = rig.uploads.start("p", UploadDraft(declared_bytes=4))
    await rig.uploads.upload(session, 0, _chunks(b"abXX"))
    await rig.uploads.upload(session, 2, _chunks(b"cd"))
    assert await rig.files.read(await rig.uploads.finalize(session)) == b"abcd"


async def test_an_offset_past_the_received_bytes_is_refused(rig: Rig) -> None:
    _, session = rig.uploads.start("p", UploadDraft(declared_bytes=4))
    await rig.uploads.upload(session, 0, _chunks(b"ab"))
    with pytest.raises(InvalidArgument) as caught:
        await rig.uploads.upload(session, 3, _chunks(b"d"))
    assert caught.value.field == "X-Goog-Upload-Offset"


async def test_finalize_before_every_declared_byte_is_refused(rig: Rig) -> None:
    _, session = rig.uploads.start("p", UploadDraft(declared_bytes=4))
    await rig.uploads.upload(session, 0, _chunks(b"ab"))
    with pytest.raises(InvalidArgument):
        await rig.uploads.finalize(session)


async def test_a_session_is_found_by_its_token_only(rig: Rig) -> None:
    token, session = rig.uploads.start("p", UploadDraft())
    assert rig.uploads.session(token).id == session.id
    with pytest.raises(NotFound):
        rig.uploads.session(token + "x")


def test_per_file_and_per_project_limits_are_checked_at_start(rig: Rig) -> None:
    with pytest.raises(InvalidArgument, match="per file"):
        rig.uploads.start("p", UploadDraft(declared_bytes=101))
    rig.uploads.start("p", UploadDraft(declared_bytes=100))
    with pytest.raises(InvalidArgument, match="limit of 150"):
        rig.uploads.start("p", UploadDraft(declared_bytes=60))
    rig.uploads.start("other", UploadDraft(declared_bytes=60))


async def test_bytes_beyond_the_declared_size_are_refused(rig: Rig) -> None:
    _, session = rig.uploads.start("p", UploadDraft(declared_bytes=3))
    with pytest.raises(InvalidArgument):
        await rig.uploads.upload(session, 0, _chunks(b"ab", b"cd"))


async def test_another_project_cannot_see_or_delete_a_file(rig: Rig) -> None:
    _, session = rig.uploads.start("p", UploadDraft(declared_bytes=1))
    await rig.uploads.upload(session, 0, _chunks(b"x"))
    file = await rig.uploads.finalize(session)
    for action in (rig.files.get, rig.files.delete):
        with pytest.raises(NotFound):
            action("q", f"files/{file.id}")
    assert rig.files.list("q") == []
    assert rig.files.get("p", f"https://h/v1beta/files/{file.id}").id == file.id


async def test_expired_files_and_sessions_are_swept(rig: Rig) -> None:
    _, session = rig.uploads.start("p", UploadDraft(declared_bytes=1))
    await rig.uploads.upload(session, 0, _chunks(b"x"))
    file = await rig.uploads.finalize(session)
    _, open_session = rig.uploads.start("p", UploadDraft(declared_bytes=2))
    await rig.uploads.upload(open_session, 0, _chunks(b"y"))
    rig.clock.now += 61
    with pytest.raises(NotFound):
        rig.files.get("p", file.id)
    assert await rig.files.sweep() == 1
    assert await rig.uploads.sweep() == 2  # the finished session and the open one
    assert not any((rig.root / "files" / "blobs").iterdir())
    assert not any((rig.root / "files" / "partial").iterdir())


@pytest.mark.parametrize(
    ("reference", "expected"),
    [("files/abc123", "abc123"), ("abc123", "abc123"), ("http://h:1/gemini/v1/files/abc", "abc")],
)
def test_file_references_name_one_id(reference: str, expected: str) -> None:
    assert file_id_of(reference) == expected


def test_a_reference_that_is_not_a_file_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        file_id_of("gs://bucket/Thing.pdf", "contents[0].parts[0].fileData.fileUri")
