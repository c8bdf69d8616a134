"""API keys: creation (the secret is shown once), verification, revocation, and auth policy.

Keys are 256-bit random secrets, so a single SHA-256 is the right hash at rest: there is
nothing to brute-force that a slow password hash would protect, and it keeps every request's
check to one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field

from gemgate.core.errors import InvalidArgument, PermissionDenied
from gemgate.core.ports import ApiKeyRecord, KeyLimits, KeyStore

KEY_PREFIX = "sk-"
OPEN_PROJECT = "default"


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: a project, through a key (None when the server runs open)."""

    project: str
    key_id: str | None
    limits: KeyLimits = field(default_factory=KeyLimits)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class KeyService:
    def __init__(self, store: KeyStore, open_when_keyless: bool) -> None:
        self._store = store
        self._open_when_keyless = open_when_keyless
        self._key_seen = False

    def create(
        self, project: str, name: str = "", limits: KeyLimits | None = None
    ) -> tuple[ApiKeyRecord, str]:
        secret = _new_secret()
        record = ApiKeyRecord(
            id=secrets.token_hex(8),
            project=project,
            name=name,
            prefix=secret[:10],
            created_at=time.time(),
            limits=limits or KeyLimits(),
        )
        self._store.add(record, hash_secret(secret))
        return record, secret

    def get(self, key_id: str) -> ApiKeyRecord | None:
        return self._store.get(key_id)

    def rotate(self, key_id: str) -> tuple[ApiKeyRecord, str] | None:
        """A new secret for an active key (same id, project and limits); None if none."""
        secret = _new_secret()
        if not self._store.rotate(key_id, hash_secret(secret), secret[:10]):
            return None
        record = self._store.get(key_id)
        assert record is not None  # rotated just now; keys are never deleted
        return record, secret

    def list(self) -> list[ApiKeyRecord]:
        return self._store.list()

    def any_created(self) -> bool:
        # Keys are revoked, never deleted: once one exists the answer stays True, so only
        # a keyless server asks the database on each request (a CLI may add a key anytime).
        if not self._key_seen:
            self._key_seen = self._store.count() > 0
        return self._key_seen

    def revoke(self, key_id: str) -> bool:
        return self._store.revoke(key_id, time.time())

    def authenticate(self, secret: str | None) -> Principal:
        """Google's answers: no key -> 403, an unknown or revoked key -> 400 API_KEY_INVALID.

        Open (when allowed) only while no key was ever created: revoking the last key must
        not quietly open the server again.
        """
        if self._open_when_keyless and not self.any_created():
            return Principal(OPEN_PROJECT, None)
        if not secret:
            raise PermissionDenied(
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API."
            )
        record = self._store.find_by_hash(hash_secret(secret))
        if record is None or record.revoked_at is not None:
            raise InvalidArgument("API key not valid. Please pass a valid API key.", field="key")
        return Principal(record.project, record.id, record.limits)
