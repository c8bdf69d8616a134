"""pageSize/pageToken pagination over an in-memory list, with opaque offset tokens."""

from __future__ import annotations

import base64
from typing import TypeVar

from gemgate.core.errors import InvalidArgument

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _decode_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind != "o" or not number.isdigit():
            raise ValueError(text)
        return int(number)
    except ValueError as exc:
        raise InvalidArgument("pageToken is not valid.", field="pageToken") from exc


def _page_size(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError as exc:
        raise InvalidArgument(
            f"pageSize must be an integer, got {raw!r}.", field="pageSize"
        ) from exc
    if size < 0:
        raise InvalidArgument("pageSize must not be negative.", field="pageSize")
    return min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def page(
    items: list[T], page_size: str | None, page_token: str | None
) -> tuple[list[T], str | None]:
    size = _page_size(page_size)
    start = _decode_token(page_token) if page_token else 0
    end = start + size
    next_token = _encode_token(end) if end < len(items) else None
    return items[start:end], next_token
