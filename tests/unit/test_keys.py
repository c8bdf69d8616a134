"""KeyService over a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from gemgate.core.errors import InvalidArgument, PermissionDenied
from gemgate.services.keys import KeyService
from gemgate.store.database import open_database
from gemgate.store.keys import SqlKeyStore


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
