"""The usage ledger at rest: one row per metered request, never updated."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, Float, Integer, String, Text, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from gemgate.core.ports import UsageRecord, UsageTotals
from gemgate.store.base import Base

GROUPS = ("key", "model", "day")


class UsageRow(Base):
    __tablename__ = "usage_ledger"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    time: Mapped[float] = mapped_column(Float, index=True)
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    project: Mapped[str] = mapped_column(String(128))
    method: Mapped[str] = mapped_column(String(64))
    model_asked: Mapped[str] = mapped_column(String(256))
    model_served: Mapped[str] = mapped_column(String(256))
    deployment: Mapped[str] = mapped_column(String(256))
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    cached_tokens: Mapped[int] = mapped_column(BigInteger)
    candidates_tokens: Mapped[int] = mapped_column(BigInteger)
    thoughts_tokens: Mapped[int] = mapped_column(BigInteger)
    tool_use_prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    total_tokens: Mapped[int] = mapped_column(BigInteger)
    cost_usd: Mapped[float] = mapped_column(Float)
    latency_ms: Mapped[float] = mapped_column(Float)
    ttft_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(32))
    error: Mapped[str] = mapped_column(Text, default="")


@dataclass
class _Sum:
    requests: int = 0
    errors: int = 0
    prompt: int = 0
    cached: int = 0
    candidates: int = 0
    thoughts: int = 0
    cost: float = 0.0


def _group(by: str, key_id: str | None, model: str, when: float) -> str:
    if by == "key":
        return key_id or "(open)"
    if by == "model":
        return model
    return time.strftime("%Y-%m-%d", time.gmtime(when))


class SqlUsageStore:
    """core.ports.UsageStore over SQLAlchemy."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_many(self, records: Sequence[UsageRecord]) -> None:
        rows = [
            {**{f: getattr(r, f) for f in _FIELDS}, "total_tokens": r.total_tokens} for r in records
        ]
        with Session(self._engine) as session, session.begin():
            session.execute(insert(UsageRow), rows)

    def records(self, since: float = 0.0) -> list[UsageRecord]:
        """Rows from `since` on, oldest first (reports and tests read them)."""
        with Session(self._engine) as session:
            rows = session.scalars(
                select(UsageRow).where(UsageRow.time >= since).order_by(UsageRow.id)
            )
            return [UsageRecord(**{f: getattr(row, f) for f in _FIELDS}) for row in rows]

    def summary(self, by: str, since: float, key_id: str | None = None) -> list[UsageTotals]:
        if by not in GROUPS:
            raise ValueError(f"group by one of {', '.join(GROUPS)}, not {by!r}")
        query = select(
            UsageRow.key_id,
            UsageRow.model_asked,
            UsageRow.time,
            UsageRow.status,
            UsageRow.prompt_tokens,
            UsageRow.cached_tokens,
            UsageRow.candidates_tokens,
            UsageRow.thoughts_tokens,
            UsageRow.cost_usd,
        ).where(UsageRow.time >= since)
        if key_id is not None:
            query = query.where(UsageRow.key_id == key_id)
        sums: dict[str, _Sum] = {}
        with Session(self._engine) as session:
            for key, model, when, status, prompt, cached, cand, thoughts, cost in session.execute(
                query
            ):
                total = sums.setdefault(_group(by, key, model, when), _Sum())
                total.requests += 1
                total.errors += status != "OK"
                total.prompt += prompt
                total.cached += cached
                total.candidates += cand
                total.thoughts += thoughts
                total.cost += cost
        return [
            UsageTotals(
                name, s.requests, s.errors, s.prompt, s.cached, s.candidates, s.thoughts, s.cost
            )
            for name, s in sorted(sums.items())
        ]

    def spent(self, key_id: str, since: float = 0.0) -> tuple[int, float]:
        query = select(
            func.coalesce(func.sum(UsageRow.total_tokens), 0),
            func.coalesce(func.sum(UsageRow.cost_usd), 0.0),
        ).where(UsageRow.key_id == key_id, UsageRow.time >= since)
        with Session(self._engine) as session:
            tokens, cost = session.execute(query).one()
            return int(tokens), float(cost)


_FIELDS = tuple(f for f in UsageRecord.__dataclass_fields__ if f != "total_tokens")
