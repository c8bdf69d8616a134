"""API keys at rest: only a hash of each secret is stored, with the key's limits."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Float, Integer, String, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from gemgate.core.ports import ApiKeyRecord, KeyLimits
from gemgate.store.base import Base
from gemgate.store.changes import KeyChanges


class KeyChangesRow(Base):
    """One row: a counter the triggers on api_keys move (see store/changes.py)."""

    __tablename__ = "key_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    rpm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tpm: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    daily_tokens: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    budget_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    models: Mapped[list[str]] = mapped_column(JSON, default=list)

    def record(self) -> ApiKeyRecord:
        limits = KeyLimits(
            rpm=self.rpm,
            tpm=self.tpm,
            daily_tokens=self.daily_tokens,
            budget_usd=self.budget_usd,
            models=tuple(self.models or ()),
        )
        return ApiKeyRecord(
            id=self.id,
            project=self.project,
            name=self.name,
            prefix=self.prefix,
            created_at=self.created_at,
            revoked_at=self.revoked_at,
            limits=limits,
        )


_FOUND_MAX = 4096  # keys remembered between two changes of the database


class SqlKeyStore:
    """core.ports.KeyStore over SQLAlchemy."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._changes = KeyChanges.watch(engine)
        self._counted: tuple[int, int] | None = None  # (keys version, count) of the last count
        self._found: dict[str, ApiKeyRecord] = {}  # by secret hash, as of _found_version
        self._found_version: int | None = None

    def add(self, record: ApiKeyRecord, secret_hash: str) -> None:
        limits = record.limits
        with Session(self._engine) as session, session.begin():
            session.add(
                ApiKeyRow(
                    id=record.id,
                    project=record.project,
                    name=record.name,
                    prefix=record.prefix,
                    secret_hash=secret_hash,
                    created_at=record.created_at,
                    revoked_at=record.revoked_at,
                    rpm=limits.rpm,
                    tpm=limits.tpm,
                    daily_tokens=limits.daily_tokens,
                    budget_usd=limits.budget_usd,
                    models=list(limits.models),
                )
            )

    def find_by_hash(self, secret_hash: str) -> ApiKeyRecord | None:
        """Every keyed request asks this: on SQLite, found keys are remembered while no
        connection (of any process) has changed a key, so a revocation counts at once."""
        version = None if self._changes is None else self._changes.version()
        if version != self._found_version:
            self._found.clear()
            self._found_version = version
        if version is not None and (known := self._found.get(secret_hash)) is not None:
            return known
        with Session(self._engine) as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.secret_hash == secret_hash))
            record = row.record() if row else None
        if version is not None and record is not None and len(self._found) < _FOUND_MAX:
            self._found[secret_hash] = record  # read before the query, as in `count`
        return record

    def get(self, key_id: str) -> ApiKeyRecord | None:
        with Session(self._engine) as session:
            row = session.get(ApiKeyRow, key_id)
            return row.record() if row else None

    def list(self) -> list[ApiKeyRecord]:
        with Session(self._engine) as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))
            return [row.record() for row in rows]

    def revoke(self, key_id: str, when: float) -> bool:
        with Session(self._engine) as session, session.begin():
            result = session.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
                .values(revoked_at=when)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def rotate(self, key_id: str, secret_hash: str, prefix: str) -> bool:
        with Session(self._engine) as session, session.begin():
            result = session.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
                .values(secret_hash=secret_hash, prefix=prefix)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def count(self) -> int:
        """Every key ever created, revoked ones included.

        A keyless server asks this on every request: on SQLite the last count is reused
        while no connection (of any process) has changed a key since it was taken.
        """
        version = None if self._changes is None else self._changes.version()
        if version is not None and self._counted is not None and self._counted[0] == version:
            return self._counted[1]
        with Session(self._engine) as session:
            total = int(session.scalar(select(func.count()).select_from(ApiKeyRow)) or 0)
        if version is not None:  # read before counting: a commit in between makes it stale
            self._counted = (version, total)
        return total
