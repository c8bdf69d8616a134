"""Whether the API keys changed: a counter in `key_changes`, read on a connection of its own.

Triggers on `api_keys` (migration 0004) add one to the counter in the same transaction as any
insert, update or delete, whichever process or tool made it. Reading it costs microseconds, so
the key store keeps its answers until the keys really changed. Unlike SQLite's
`PRAGMA data_version`, the counter does not move when other tables are written: the usage
ledger commits after every request, and must not make every next request query the keys.
"""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy.engine import Engine

VERSION_SQL = "SELECT version FROM key_changes WHERE id = 1"
TRIGGERS = ("api_keys_inserted", "api_keys_updated", "api_keys_deleted")


class KeyChanges:
    def __init__(self, path: str) -> None:
        # Autocommit and only ever reading: it never holds a lock on the file.
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()

    @classmethod
    def watch(cls, engine: Engine) -> KeyChanges | None:
        """A watcher for a migrated SQLite file; None for anything else (no cheap signal)."""
        url = engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        try:
            watcher = cls(url.database)
        except sqlite3.Error:
            return None
        if not watcher._triggers_present() or watcher.version() is None:
            watcher.close()  # without the triggers the counter would never move
            return None
        return watcher

    def version(self) -> int | None:
        """The counter (moves with every change to api_keys); None if unreadable."""
        try:
            with self._lock:
                row = self._connection.execute(VERSION_SQL).fetchone()
        except sqlite3.Error:
            return None
        return None if row is None else int(row[0])

    def _triggers_present(self) -> bool:
        marks = ",".join("?" * len(TRIGGERS))
        sql = f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})"
        try:
            with self._lock:
                (found,) = self._connection.execute(sql, TRIGGERS).fetchone()
        except sqlite3.Error:
            return False
        return int(found) == len(TRIGGERS)

    def close(self) -> None:
        self._connection.close()
