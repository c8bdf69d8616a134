"""KeyService over a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from gemgate.core.errors import InvalidArgument, PermissionDenied
from gemgate.core.ports import KeyLimits
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
