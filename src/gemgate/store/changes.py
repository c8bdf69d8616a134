"""Whether a SQLite database changed: `PRAGMA data_version` on a connection of its own.

SQLite changes the number that connection sees whenever any other connection, in this
process or another, commits to the file. Reading it costs microseconds, so a store can keep
an answer until the database really changed instead of querying on every request.
"""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy.engine import Engine


class SqliteChanges:
    def __init__(self, path: str) -> None:
        # Autocommit and only ever reading the pragma: it never holds a lock on the file.
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()

    @classmethod
    def watch(cls, engine: Engine) -> SqliteChanges | None:
        """A watcher for a SQLite file database; None for anything else (no cheap signal)."""
        url = engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        try:
            return cls(url.database)
        except sqlite3.Error:
            return None

    def version(self) -> int | None:
        """The data version (changes after any other connection's commit); None if unreadable."""
        try:
            with self._lock:
                row = self._connection.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return None
        return int(row[0])

    def close(self) -> None:
        self._connection.close()
