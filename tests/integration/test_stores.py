"""The SQL stores behave the same on SQLite and PostgreSQL (each test runs on both)."""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text
from sqlalchemy.engine import Engine

from gemgate.core.ports import ApiKeyRecord
from gemgate.core.types import (
    CachedContent,
    Content,
    FileState,
    FunctionCallPart,
    InlineDataPart,
    Role,
    StoredFile,
    TextPart,
    Tool,
    UploadSession,
)
from gemgate.store.caches import SqlCachedContentStore
from gemgate.store.files import SqlFileStore
from gemgate.store.keys import SqlKeyStore

# Wall-clock timestamps with microseconds: a float column must give back exactly these.
NOW = 1_764_400_000.123456


def key(key_id: str, project: str = "p", created: float = NOW) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=key_id, project=project, name="ci ✓", prefix="sk-abcd", created_at=created
    )


def test_keys_round_trip_revoke_and_count(database: Engine) -> None:
    store = SqlKeyStore(database)
    store.add(key("k1"), "hash-1")
    store.add(key("k2", created=NOW + 1), "hash-2")
    assert store.find_by_hash("hash-1") == key("k1")
    assert store.find_by_hash("HASH-1") is None  # lookups are exact, on both databases
    assert store.revoke("k1", NOW + 5) and not store.revoke("k1", NOW + 6)
    assert [r.id for r in store.list()] == ["k1", "k2"]
    assert store.list()[0].revoked_at == NOW + 5
    assert store.count() == 2


def test_every_change_to_the_keys_moves_their_counter(database: Engine) -> None:
    def version() -> int:
        with database.connect() as connection:
            # The PostgreSQL fixture empties every table between tests, this one too.
            found = connection.execute(text("SELECT version FROM key_changes")).scalar()
            return int(found or 0)

    store = SqlKeyStore(database)
    start = version()
    store.add(key("k1"), "hash-1")
    assert version() == start + 1
    assert store.rotate("k1", "hash-2", "sk-efgh")
    assert version() == start + 2
    assert store.revoke("k1", NOW)
    assert version() == start + 3
    store.list()
    store.find_by_hash("hash-2")
    assert version() == start + 3  # reading moves nothing


def cache(cache_id: str, project: str, created: float, expires: float) -> CachedContent:
    contents = (
        Content(
            Role.USER, (TextPart("Ünïcode ✓ document"), InlineDataPart("text/plain", b"\0\xff"))
        ),
        Content(Role.MODEL, (FunctionCallPart("f", {"x": 1.5}, thought_signature=b"gg1:\x01"),)),
    )
    return CachedContent(
        id=cache_id,
        project=project,
        model="gemini-2.5-flash",
        display_name="logbook",
        contents=contents,
        system_instruction=Content(Role.USER, (TextPart("system"),)),
        tools=(Tool("function_declarations", {"functionDeclarations": [{"name": "f"}]}),),
        tool_config={"functionCallingConfig": {"mode": "AUTO"}},
        create_time=created,
        update_time=created,
        expire_time=expires,
        total_tokens=321,
    )


def test_cached_contents_round_trip_per_project(database: Engine) -> None:
    store = SqlCachedContentStore(database)
    first, second = cache("c1", "Alpha", NOW, NOW + 60), cache("c2", "Alpha", NOW + 1, NOW + 90)
    store.add(second)
    store.add(first)
    store.add(cache("c3", "alpha", NOW, NOW + 60))  # project names are case-sensitive
    assert store.get("c1") == first
    assert [c.id for c in store.list("Alpha")] == ["c1", "c2"]
    assert [c.id for c in store.list("alpha")] == ["c3"]
    store.set_expiry("c1", NOW + 600, NOW + 2)
    updated = store.get("c1")
    assert updated and updated.expire_time == NOW + 600 and updated.update_time == NOW + 2
    assert sorted(store.delete_expired(NOW + 90)) == ["c2", "c3"]
    assert store.delete("c1") and not store.delete("c1")
    assert store.get("c1") is None


def stored_file(
    file_id: str, project: str = "p", size: int = 10, created: float = NOW
) -> StoredFile:
    return StoredFile(
        id=file_id,
        project=project,
        display_name="report.pdf",
        mime_type="application/pdf",
        size_bytes=size,
        sha256=hashlib.sha256(file_id.encode()).digest(),
        create_time=created,
        update_time=created,
        expire_time=created + 100,
        state=FileState.ACTIVE,
    )


def upload(upload_id: str, declared: int | None, project: str = "p") -> UploadSession:
    return UploadSession(
        id=upload_id,
        project=project,
        file_id=f"file{upload_id}",
        display_name="big.bin",
        mime_type="application/octet-stream",
        declared_bytes=declared,
        create_time=NOW,
        expire_time=NOW + 50,
    )


def test_files_keep_their_bytes_fields_and_order(database: Engine) -> None:
    store = SqlFileStore(database)
    big = 5 * 1024**3  # beyond 32-bit integers
    store.add_file(stored_file("old", size=big))
    store.add_file(stored_file("new", created=NOW + 1))
    assert store.get_file("old") == stored_file("old", size=big)
    assert [f.id for f in store.list_files("p")] == ["new", "old"]  # newest first
    assert [f.id for f in store.expired_files(NOW + 100)] == ["old"]
    assert store.delete_file("old") and not store.delete_file("old")
    assert store.get_file("old") is None


def test_open_uploads_reserve_their_declared_bytes(database: Engine) -> None:
    store = SqlFileStore(database)
    store.add_file(stored_file("f1", size=100))
    store.add_upload(upload("u1", 1000))
    store.add_upload(upload("u2", None))
    store.add_upload(upload("u3", 7, project="other"))
    assert store.project_bytes("p") == 1100
    store.finish_upload("u1")
    finished = store.get_upload("u1")
    assert finished and finished.finalized is True
    assert store.project_bytes("p") == 100
    assert store.project_bytes("nobody") == 0
    assert {u.id for u in store.expired_uploads(NOW + 50)} == {"u1", "u2", "u3"}
    assert store.delete_upload("u2") and store.get_upload("u2") is None


def test_concurrent_writers_lose_nothing(database: Engine) -> None:
    store = SqlFileStore(database)

    def write(i: int) -> None:
        store.add_file(stored_file(f"c{i}", size=i, created=time.time()))
        store.add_upload(upload(f"u{i}", i))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(40)))
    assert len(store.list_files("p")) == 40
    assert store.project_bytes("p") == 2 * sum(range(40))
