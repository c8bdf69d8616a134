"""What a document's bytes say as prompt text: text-like MIME types decoded, PDFs read page by
page with pypdf. Pure (CPU only, no I/O); callers run it off the event loop when it is large.
"""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from gemgate.core.errors import InvalidArgument

PDF_MIME = "application/pdf"
_TEXT_MIME_TYPES = {
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-javascript",
    "application/x-python",
    "application/x-python-code",
    "application/rtf",
    "application/x-sh",
    "application/yaml",
    "application/x-yaml",
}


def base_mime(mime_type: str) -> str:
    return mime_type.split(";", 1)[0].strip().lower()


def is_text_mime(mime_type: str) -> bool:
    base = base_mime(mime_type)
    return base.startswith("text/") or base in _TEXT_MIME_TYPES


def is_document_mime(mime_type: str) -> bool:
    """Read into the prompt as text: text-like types and PDF."""
    return is_text_mime(mime_type) or base_mime(mime_type) == PDF_MIME


def modality(mime_type: str) -> str:
    major = base_mime(mime_type).split("/", 1)[0].upper()
    if major in {"IMAGE", "AUDIO", "VIDEO"}:
        return major
    return "DOCUMENT"


def decode_text(data: bytes, mime_type: str, field: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgument(
            f"{field} is not valid UTF-8 text for {mime_type}.", field=field
        ) from exc


def pdf_text(data: bytes, field: str) -> str:
    """Each page's text behind a marker naming the page, so the model can cite pages."""
    # pypdf logs recoverable oddities of real-world PDFs as warnings; they are not errors here.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidArgument(f"{field} is not a readable PDF: {exc}", field=field) from exc
    total = len(pages)
    return "\n\n".join(
        f"--- Page {i} of {total} ---\n{text.strip()}" for i, text in enumerate(pages, 1)
    )


def document_text(data: bytes, mime_type: str, field: str) -> str:
    """The text of a text-like or PDF document (callers check is_document_mime first)."""
    if base_mime(mime_type) == PDF_MIME:
        return pdf_text(data, field)
    return decode_text(data, mime_type, field)
