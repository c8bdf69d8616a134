"""Key limits and the usage ledger (the gateway's quotas and accounting).

Existing keys get no limits and an empty model allow-list (every model).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 18:45:42.658640
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_ledger",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=True),
        sa.Column("project", sa.String(length=128), nullable=False),
        sa.Column("method", sa.String(length=64), nullable=False),
        sa.Column("model_asked", sa.String(length=256), nullable=False),
        sa.Column("model_served", sa.String(length=256), nullable=False),
        sa.Column("deployment", sa.String(length=256), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cached_tokens", sa.BigInteger(), nullable=False),
        sa.Column("candidates_tokens", sa.BigInteger(), nullable=False),
        sa.Column("thoughts_tokens", sa.BigInteger(), nullable=False),
        sa.Column("tool_use_prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("ttft_ms", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("usage_ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_ledger_key_id"), ["key_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_ledger_time"), ["time"], unique=False)

    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rpm", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("tpm", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("daily_tokens", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("budget_usd", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("models", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("models")
        batch_op.drop_column("budget_usd")
        batch_op.drop_column("daily_tokens")
        batch_op.drop_column("tpm")
        batch_op.drop_column("rpm")

    with op.batch_alter_table("usage_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_ledger_time"))
        batch_op.drop_index(batch_op.f("ix_usage_ledger_key_id"))

    op.drop_table("usage_ledger")
