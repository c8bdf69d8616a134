"""Every table of gemgate's, gathered: the metadata Alembic migrates towards.

A module that defines tables is imported here, so `metadata()` holds them all; a table left out
would be invisible to the schema check (tests/integration/test_migrations.py).
"""

from __future__ import annotations

from sqlalchemy import MetaData

from gemgate.store import caches, files, keys, pins, usage
from gemgate.store.base import Base

TABLES = (
    keys.ApiKeyRow,
    keys.KeyChangesRow,
    caches.CachedContentRow,
    files.FileRow,
    files.UploadRow,
    usage.UsageRow,
    pins.PinRow,
)


def metadata() -> MetaData:
    return Base.metadata
