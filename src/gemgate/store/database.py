"""Opening the database: one engine, every table created."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from gemgate.store import caches, files, keys, usage
from gemgate.store.base import Base

_TABLES = (
    keys.ApiKeyRow,
    caches.CachedContentRow,
    files.FileRow,
    files.UploadRow,
    usage.UsageRow,
)


def open_database(url: str) -> Engine:
    engine = create_engine(url)
    Base.metadata.create_all(engine, tables=[t.__table__ for t in _TABLES])  # type: ignore[misc]
    return engine
