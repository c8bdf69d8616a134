"""Pins: which upstream deployment owns a resource gemgate created there (a cache)."""

from __future__ import annotations

from sqlalchemy import Float, String, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from gemgate.core.ports import Pin
from gemgate.store.base import Base


class PinRow(Base):
    __tablename__ = "upstream_pins"

    resource: Mapped[str] = mapped_column(String(256), primary_key=True)
    project: Mapped[str] = mapped_column(String(128), index=True)
    deployment: Mapped[str] = mapped_column(String(128))
    upstream_name: Mapped[str] = mapped_column(String(512))
    create_time: Mapped[float] = mapped_column(Float)


class SqlPinStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, pin: Pin) -> None:
        with Session(self._engine) as session, session.begin():
            session.add(
                PinRow(
                    resource=pin.resource,
                    project=pin.project,
                    deployment=pin.deployment,
                    upstream_name=pin.upstream_name,
                    create_time=pin.create_time,
                )
            )

    def get(self, resource: str) -> Pin | None:
        with Session(self._engine) as session:
            row = session.scalar(select(PinRow).where(PinRow.resource == resource))
            if row is None:
                return None
            return Pin(
                row.resource, row.project, row.deployment, row.upstream_name, row.create_time
            )

    def delete(self, resource: str) -> bool:
        with Session(self._engine) as session, session.begin():
            result = session.execute(delete(PinRow).where(PinRow.resource == resource))
            return bool(result.rowcount)  # type: ignore[attr-defined]
