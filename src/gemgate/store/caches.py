"""Explicit context caches at rest (contents kept as the core's own JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import Float, Integer, String, Text, delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from gemgate.core.serialize import (
    content_from_json,
    content_to_json,
    tool_from_json,
    tool_to_json,
)
from gemgate.core.types import CachedContent
from gemgate.store.base import Base


class CachedContentRow(Base):
    __tablename__ = "cached_contents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project: Mapped[str] = mapped_column(String(128), index=True)
    model: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(256), default="")
    body: Mapped[str] = mapped_column(Text)  # contents, system instruction, tools, tool config
    create_time: Mapped[float] = mapped_column(Float)
    update_time: Mapped[float] = mapped_column(Float)
    expire_time: Mapped[float] = mapped_column(Float, index=True)
    total_tokens: Mapped[int] = mapped_column(Integer)


def _body(cache: CachedContent) -> str:
    return json.dumps(
        {
            "contents": [content_to_json(c) for c in cache.contents],
            "system": content_to_json(cache.system_instruction)
            if cache.system_instruction
            else None,
            "tools": [tool_to_json(t) for t in cache.tools],
            "tool_config": cache.tool_config,
        }
    )


def _record(row: CachedContentRow) -> CachedContent:
    body = json.loads(row.body)
    return CachedContent(
        id=row.id,
        project=row.project,
        model=row.model,
        display_name=row.display_name,
        contents=tuple(content_from_json(c) for c in body["contents"]),
        system_instruction=content_from_json(body["system"]) if body["system"] else None,
        tools=tuple(tool_from_json(t) for t in body["tools"]),
        tool_config=body["tool_config"],
        create_time=row.create_time,
        update_time=row.update_time,
        expire_time=row.expire_time,
        total_tokens=row.total_tokens,
    )


class SqlCachedContentStore:
    """core.ports.CachedContentStore over SQLAlchemy."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, cache: CachedContent) -> None:
        with Session(self._engine) as session, session.begin():
            session.add(
                CachedContentRow(
                    id=cache.id,
                    project=cache.project,
                    model=cache.model,
                    display_name=cache.display_name,
                    body=_body(cache),
                    create_time=cache.create_time,
                    update_time=cache.update_time,
                    expire_time=cache.expire_time,
                    total_tokens=cache.total_tokens,
                )
            )

    def get(self, cache_id: str) -> CachedContent | None:
        with Session(self._engine) as session:
            row = session.get(CachedContentRow, cache_id)
            return _record(row) if row else None

    def list(self, project: str) -> list[CachedContent]:
        with Session(self._engine) as session:
            rows = session.scalars(
                select(CachedContentRow)
                .where(CachedContentRow.project == project)
                .order_by(CachedContentRow.create_time, CachedContentRow.id)
            )
            return [_record(row) for row in rows]

    def set_expiry(self, cache_id: str, expire_time: float, update_time: float) -> None:
        with Session(self._engine) as session, session.begin():
            session.execute(
                update(CachedContentRow)
                .where(CachedContentRow.id == cache_id)
                .values(expire_time=expire_time, update_time=update_time)
            )

    def delete(self, cache_id: str) -> bool:
        with Session(self._engine) as session, session.begin():
            result = session.execute(
                delete(CachedContentRow).where(CachedContentRow.id == cache_id)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def delete_expired(self, now: float) -> Sequence[str]:
        """Delete expired caches; their ids."""
        with Session(self._engine) as session, session.begin():
            expired = list(
                session.scalars(
                    select(CachedContentRow.id).where(CachedContentRow.expire_time <= now)
                )
            )
            if expired:
                session.execute(delete(CachedContentRow).where(CachedContentRow.id.in_(expired)))
            return expired
