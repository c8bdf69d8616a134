"""Opening the database: one engine, its schema migrated to the newest revision first.

The same code runs on SQLite (one process, the default) and PostgreSQL (many replicas). Each
process upgrades at start; replicas starting together take turns: a PostgreSQL advisory lock
(held for the migration's transaction) or, on a SQLite file, an exclusive lock on a file next
to it. The one that waits finds the schema already at head and does nothing.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = "gemgate.store:migrations"
# Any fixed 64-bit number: every gemgate process agrees on it ("gemgate" in ASCII).
_ADVISORY_LOCK = 0x67656D67617465


@dataclass(frozen=True)
class PoolOptions:
    """Connection pool of a server database (SQLite needs none)."""

    size: int = 5
    max_overflow: int = 10
    recycle_seconds: int = 1800


def open_database(url: str, pool: PoolOptions | None = None) -> Engine:
    engine = connect(url, pool)
    upgrade(engine)
    return engine


def connect(url: str, pool: PoolOptions | None = None) -> Engine:
    """An engine without touching the schema."""
    if make_url(url).get_backend_name() == "sqlite":
        return create_engine(url)
    pool = pool or PoolOptions()
    # pre_ping: a connection the server or a proxy dropped while idle is replaced, not
    # handed to a request that would fail on it. recycle: no connection outlives a proxy's
    # idle timeout.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool.size,
        max_overflow=pool.max_overflow,
        pool_recycle=pool.recycle_seconds,
    )


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with _exclusive(engine) as connection:
        command.upgrade(alembic_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@contextmanager
def _exclusive(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other gemgate process migrates alongside."""
    backend = engine.url.get_backend_name()
    if backend == "postgresql":
        with engine.begin() as connection:
            # Released when the transaction ends, so a crash can never leave it held.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
            yield connection
        return
    database = engine.url.database if backend == "sqlite" else None
    with _file_lock(database), engine.begin() as connection:
        yield connection


@contextmanager
def _file_lock(database: str | None) -> Iterator[None]:
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    with Path(f"{database}.migrate.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
