"""The media pipeline: fileData and inline PDFs become prompt text; other media are refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gemgate.core.errors import InvalidArgument, NotFound
from gemgate.core.types import Content, FileDataPart, InlineDataPart, Role, TextPart
from gemgate.services.documents import document_text, is_document_mime, modality
from gemgate.services.files import FileLimits, FileService
from gemgate.services.media import MediaResolver, needs_resolution
from gemgate.services.uploads import UploadDraft, UploadService
from gemgate.store.blobs import DiskBlobStore
from gemgate.store.database import open_database
from gemgate.store.files import SqlFileStore
from tests.documents import tiny_pdf


@pytest.fixture
def services(tmp_path: Path) -> tuple[FileService, UploadService]:
    store = SqlFileStore(open_database(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    blobs = DiskBlobStore(tmp_path / "files")
    return FileService(store, blobs), UploadService(store, blobs, FileLimits())


async def _upload(uploads: UploadService, data: bytes, mime: str) -> str:
    async def one() -> AsyncIterator[bytes]:
        yield data

    _, session = uploads.start("p", UploadDraft(mime_type=mime, declared_bytes=len(data)))
    await uploads.upload(session, 0, one())
    return (await uploads.finalize(session)).id


def _user(*parts: TextPart | FileDataPart | InlineDataPart) -> tuple[Content, ...]:
    return (Content(Role.USER, parts),)


@pytest.mark.parametrize(
    "mime",
    [
        "text/plain",
        "text/html",
        "text/css",
        "text/csv",
        "text/xml",
        "text/rtf",
        "text/markdown",
        "application/json",
        "application/x-python",
        "text/javascript",
        "application/pdf",
    ],
)
def test_documents_are_read_as_text(mime: str) -> None:
    assert is_document_mime(mime)


@pytest.mark.parametrize(
    ("mime", "kind"), [("image/png", "IMAGE"), ("audio/mp3", "AUDIO"), ("video/mp4", "VIDEO")]
)
def test_media_name_their_modality(mime: str, kind: str) -> None:
    assert not is_document_mime(mime) and modality(mime) == kind


def test_a_pdf_reads_page_by_page_with_markers() -> None:
    text = document_text(tiny_pdf("first words", "second words"), "application/pdf", "f")
    assert text.index("Page 1 of 2") < text.index("first words") < text.index("Page 2 of 2")


def test_a_broken_pdf_is_a_400_naming_the_part() -> None:
    with pytest.raises(InvalidArgument) as caught:
        document_text(b"%PDF-1.4 nonsense", "application/pdf", "contents[0].parts[0].inlineData")
    assert caught.value.field == "contents[0].parts[0].inlineData"


async def test_file_data_resolves_to_the_file_text(
    services: tuple[FileService, UploadService],
) -> None:
    files, uploads = services
    file_id = await _upload(uploads, b"the harbour log", "text/plain")
    contents = _user(FileDataPart(f"files/{file_id}"), TextPart("What is it?"))
    assert needs_resolution(contents, None)
    resolved, _ = await MediaResolver(files, 1000).resolve(contents, None, "p", "m")
    first = resolved[0].parts[0]
    assert isinstance(first, TextPart) and "the harbour log" in first.text
    assert resolved[0].parts[1] == TextPart("What is it?")


async def test_another_projects_file_is_not_found_naming_the_part(
    services: tuple[FileService, UploadService],
) -> None:
    files, uploads = services
    file_id = await _upload(uploads, b"secret", "text/plain")
    with pytest.raises(NotFound) as caught:
        await MediaResolver(files, 1000).resolve(_user(FileDataPart(file_id)), None, "q", "m")
    assert caught.value.field == "contents[0].parts[0].fileData.fileUri"


async def test_an_image_file_on_a_text_model_is_a_400_naming_model_and_modality(
    services: tuple[FileService, UploadService],
) -> None:
    files, uploads = services
    file_id = await _upload(uploads, b"\x89PNG", "image/png")
    with pytest.raises(InvalidArgument, match="Model tiny does not support IMAGE"):
        await MediaResolver(files, 1000).resolve(_user(FileDataPart(file_id)), None, "p", "tiny")


async def test_an_inline_pdf_resolves_and_plain_text_parts_are_left_alone(
    services: tuple[FileService, UploadService],
) -> None:
    files, _ = services
    system = Content(Role.USER, (InlineDataPart("application/pdf", tiny_pdf("rules here")),))
    contents = _user(TextPart("hi"))
    resolved, new_system = await MediaResolver(files, 10_000).resolve(contents, system, "p", "m")
    assert resolved == contents
    assert new_system is not None and "rules here" in getattr(new_system.parts[0], "text", "")
    assert not needs_resolution(contents, None)


async def test_documents_over_the_size_limit_are_refused(
    services: tuple[FileService, UploadService],
) -> None:
    files, _ = services
    pdf = InlineDataPart("application/pdf", tiny_pdf("x"))
    with pytest.raises(InvalidArgument, match="limited to 10 bytes"):
        await MediaResolver(files, 10).resolve(_user(pdf), None, "p", "m")
