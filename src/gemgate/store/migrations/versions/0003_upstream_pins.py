"""Upstream pins: which relay deployment holds a cache or file gemgate created upstream.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 19:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upstream_pins",
        sa.Column("resource", sa.String(length=256), nullable=False),
        sa.Column("project", sa.String(length=128), nullable=False),
        sa.Column("deployment", sa.String(length=128), nullable=False),
        sa.Column("upstream_name", sa.String(length=512), nullable=False),
        sa.Column("create_time", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("resource"),
    )
    op.create_index(op.f("ix_upstream_pins_project"), "upstream_pins", ["project"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_upstream_pins_project"), table_name="upstream_pins")
    op.drop_table("upstream_pins")
