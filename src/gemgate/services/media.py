"""The media pipeline: fileData and document parts become the text a model reads.

One resolver, called by the generation service before a prompt is rendered (generate,
stream and countTokens alike):
- fileData (by uri, `files/{id}` name or bare id) resolves through the Files service for the
  caller's project; text-like files become their text, PDFs their text page by page;
- inline PDFs become their text page by page (inline text-like data is decoded by
  services/prompting.py);
- images, audio and video a model cannot take are a 400 naming the model and the modality.
Reading and PDF parsing run off the event loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from gemgate.core.errors import InvalidArgument
from gemgate.core.types import Content, FileDataPart, InlineDataPart, Part, TextPart
from gemgate.services.documents import (
    PDF_MIME,
    base_mime,
    document_text,
    is_document_mime,
    modality,
    pdf_text,
)
from gemgate.services.files import FileService


def _needs(part: Part) -> bool:
    if isinstance(part, FileDataPart):
        return True
    return isinstance(part, InlineDataPart) and base_mime(part.mime_type) == PDF_MIME


def needs_resolution(contents: tuple[Content, ...], system: Content | None) -> bool:
    every = (*contents, system) if system is not None else contents
    return any(_needs(part) for content in every for part in content.parts)


def _as_prompt_text(text: str) -> TextPart:
    """A document stands apart from the words around it in the same turn."""
    return TextPart("\n" + text + ("" if text.endswith("\n") else "\n"))


class MediaResolver:
    def __init__(self, files: FileService, max_document_bytes: int) -> None:
        self._files = files
        self._max_document_bytes = max_document_bytes

    async def resolve(
        self,
        contents: tuple[Content, ...],
        system: Content | None,
        project: str,
        model_id: str,
    ) -> tuple[tuple[Content, ...], Content | None]:
        """The contents and system instruction with every resolvable part turned to text."""
        resolved = tuple(
            [
                await self._content(content, f"contents[{i}]", project, model_id)
                for i, content in enumerate(contents)
            ]
        )
        if system is not None:
            system = await self._content(system, "systemInstruction", project, model_id)
        return resolved, system

    async def _content(self, content: Content, where: str, project: str, model: str) -> Content:
        if not any(_needs(part) for part in content.parts):
            return content
        parts = [
            await self._part(part, f"{where}.parts[{j}]", project, model)
            for j, part in enumerate(content.parts)
        ]
        return replace(content, parts=tuple(parts))

    async def _part(self, part: Part, where: str, project: str, model: str) -> Part:
        if isinstance(part, FileDataPart):
            return await self._file_part(part, where, project, model)
        if isinstance(part, InlineDataPart) and base_mime(part.mime_type) == PDF_MIME:
            self._check_size(len(part.data), f"{where}.inlineData")
            text = await asyncio.to_thread(pdf_text, part.data, f"{where}.inlineData")
            return _as_prompt_text(text)
        return part

    async def _file_part(self, part: FileDataPart, where: str, project: str, model: str) -> Part:
        field = f"{where}.fileData.fileUri"
        file = self._files.get(project, part.file_uri, field)
        mime = part.mime_type or file.mime_type
        if not is_document_mime(mime):
            raise InvalidArgument(
                f"Model {model} does not support {modality(mime)} input ({mime} in "
                f"{where}.fileData, files/{file.id}): it is a text-only model.",
                field=f"{where}.fileData",
            )
        self._check_size(file.size_bytes, f"{where}.fileData")
        data = await self._files.read(file)
        text = await asyncio.to_thread(document_text, data, mime, f"{where}.fileData")
        return _as_prompt_text(text)

    def _check_size(self, size: int, field: str) -> None:
        if size > self._max_document_bytes:
            raise InvalidArgument(
                f"{field} is {size} bytes; documents read into a prompt are limited to "
                f"{self._max_document_bytes} bytes.",
                field=field,
            )
