"""Fresh real PostgreSQL databases (and Redis key prefixes) for tests; dropped afterwards.

PostgreSQL runs at 127.0.0.1:5432 with trust auth for user postgres, Redis at 127.0.0.1:6379
(`make services` starts both).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new, empty database; it is dropped (connections and all) at exit."""
    name = f"gemgate_test_{secrets.token_hex(6)}"
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield f"{POSTGRES}/{name}"
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
