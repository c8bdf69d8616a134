"""KeyService over a real SQLite store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event

from gemgate.core.errors import InvalidArgument, PermissionDenied
from gemgate.core.ports import KeyLimits, UsageRecord
from gemgate.services.keys import KeyService
from gemgate.store.database import open_database
from gemgate.store.keys import SqlKeyStore
from gemgate.store.usage import SqlUsageStore


def keys(tmp_path: Path, open_when_keyless: bool = True) -> KeyService:
    store = SqlKeyStore(open_database(f"sqlite:///{tmp_path / 'k.db'}"))
    return KeyService(store, open_when_keyless=open_when_keyless)


def test_open_until_the_first_key_exists(tmp_path: Path) -> None:
    service = keys(tmp_path)
    assert service.authenticate(None).key_id is None
    record, secret = service.create("proj")
    assert secret.startswith("sk-")
    with pytest.raises(PermissionDenied):
        service.authenticate(None)
    principal = service.authenticate(secret)
    assert principal.project == "proj" and principal.key_id == record.id


def test_secrets_are_stored_only_as_hashes(tmp_path: Path) -> None:
    _, secret = keys(tmp_path).create("proj")
    assert secret.encode() not in (tmp_path / "k.db").read_bytes()


def test_revoked_and_unknown_keys_are_invalid(tmp_path: Path) -> None:
    service = keys(tmp_path, open_when_keyless=False)
    record, secret = service.create("proj")
    _, other = service.create("proj")
    with pytest.raises(InvalidArgument):
        service.authenticate("sk-wrong")
    assert service.revoke(record.id) and not service.revoke(record.id)
    with pytest.raises(InvalidArgument):
        service.authenticate(secret)
    assert service.authenticate(other).project == "proj"


def test_never_open_when_not_allowed(tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied):
        keys(tmp_path, open_when_keyless=False).authenticate(None)


def test_limits_are_kept_with_the_key(tmp_path: Path) -> None:
    service = keys(tmp_path)
    limits = KeyLimits(rpm=5, tpm=100, daily_tokens=1000, budget_usd=2.5, models=("a", "b"))
    record, secret = service.create("proj", "n", limits)
    assert service.get(record.id) == record and record.limits == limits
    assert service.authenticate(secret).limits == limits


def test_rotation_keeps_the_key_and_retires_the_old_secret_at_once(tmp_path: Path) -> None:
    service = keys(tmp_path, open_when_keyless=False)
    record, old = service.create("proj", limits=KeyLimits(rpm=7))
    rotated = service.rotate(record.id)
    assert rotated is not None
    again, new = rotated
    assert (again.id, again.project, again.limits) == (record.id, "proj", KeyLimits(rpm=7))
    assert new != old and again.prefix == new[:10]
    assert service.authenticate(new).key_id == record.id
    with pytest.raises(InvalidArgument):
        service.authenticate(old)


def test_a_revoked_key_cannot_be_rotated(tmp_path: Path) -> None:
    service = keys(tmp_path)
    record, _ = service.create("proj")
    service.revoke(record.id)
    assert service.rotate(record.id) is None
    assert service.rotate("no-such-id") is None


def test_a_key_created_through_another_connection_closes_the_open_server(tmp_path: Path) -> None:
    # Two engines on one file: the other one stands for the CLI's process.
    url = f"sqlite:///{tmp_path / 'k.db'}"
    server = KeyService(SqlKeyStore(open_database(url)), open_when_keyless=True)
    cli = KeyService(SqlKeyStore(open_database(url)), open_when_keyless=True)
    for _ in range(3):  # asked again and again while nothing changes
        assert server.authenticate(None).key_id is None
    _, secret = cli.create("proj")
    with pytest.raises(PermissionDenied):
        server.authenticate(None)
    assert server.authenticate(secret).project == "proj"


def test_the_count_is_reused_only_while_the_database_is_unchanged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    store, other = SqlKeyStore(open_database(url)), SqlKeyStore(open_database(url))
    assert store.count() == 0 and store.count() == 0
    KeyService(other, open_when_keyless=True).create("a")
    assert store.count() == 1
    KeyService(other, open_when_keyless=True).create("b")
    assert store.count() == 2 and other.count() == 2


def test_a_key_revoked_through_another_connection_is_refused_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    server = KeyService(SqlKeyStore(open_database(url)), open_when_keyless=False)
    cli = KeyService(SqlKeyStore(open_database(url)), open_when_keyless=False)
    record, secret = cli.create("proj")
    for _ in range(3):
        assert server.authenticate(secret).key_id == record.id
    assert cli.revoke(record.id)
    with pytest.raises(InvalidArgument):
        server.authenticate(secret)
    rotated = cli.create("proj")[1]
    assert server.authenticate(rotated).project == "proj"


def test_other_tables_written_do_not_make_the_keys_be_read_again(tmp_path: Path) -> None:
    # The usage ledger commits after every request: that must not cost each next request
    # a query of the keys.
    url = f"sqlite:///{tmp_path / 'k.db'}"
    engine = open_database(url)
    server = KeyService(SqlKeyStore(engine), open_when_keyless=False)
    cli = KeyService(SqlKeyStore(open_database(url)), open_when_keyless=False)
    record, secret = cli.create("proj")
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert server.authenticate(secret).key_id == record.id
    assert len(statements) == 1  # the first lookup reads the key
    ledger = SqlUsageStore(open_database(url))
    for i in range(3):
        ledger.add_many(
            [
                UsageRecord(
                    time=float(i), key_id=record.id, project="proj", method="m", model_asked="x"
                )
            ]
        )
        assert server.authenticate(secret).key_id == record.id
    assert len(statements) == 1


def test_a_key_changed_by_plain_sql_is_seen_at_once(tmp_path: Path) -> None:
    # Another tool (sqlite3's shell, an old gemgate) edits the table: the triggers still tell.
    path = tmp_path / "k.db"
    server = KeyService(SqlKeyStore(open_database(f"sqlite:///{path}")), open_when_keyless=False)
    record, secret = server.create("proj")
    assert server.authenticate(secret).key_id == record.id
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE api_keys SET revoked_at = 1.0 WHERE id = ?", (record.id,))
    with pytest.raises(InvalidArgument):
        server.authenticate(secret)
