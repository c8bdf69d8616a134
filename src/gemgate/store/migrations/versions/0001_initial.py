"""The tables gemgate created with create_all before migrations: keys, caches, files, uploads.

A data dir from before migrations has some or all of these tables and no alembic_version: each
table is created only if it is missing, so such a database is adopted as it is (the same as
stamping this revision when all four exist) and one from an older release gains what it lacks.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create(name: str, *columns: sa.Column[object]) -> None:
    if not sa.inspect(op.get_bind()).has_table(name):
        op.create_table(name, *columns)


def _index(table: str, column: str, unique: bool = False) -> None:
    name = f"ix_{table}_{column}"
    existing = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes(table)}
    if name not in existing:
        op.create_index(name, table, [column], unique=unique)


def upgrade() -> None:
    _create(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=True),
    )
    _index("api_keys", "project")
    _index("api_keys", "secret_hash", unique=True)

    _create(
        "cached_contents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("display_name", sa.String(256), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("create_time", sa.Float(), nullable=False),
        sa.Column("update_time", sa.Float(), nullable=False),
        sa.Column("expire_time", sa.Float(), nullable=False),
        sa.Column("total_tokens", sa.Integer(), nullable=False),
    )
    _index("cached_contents", "project")
    _index("cached_contents", "expire_time")

    _create(
        "files",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("display_name", sa.String(512), nullable=False),
        sa.Column("mime_type", sa.String(256), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.LargeBinary(32), nullable=False),
        sa.Column("create_time", sa.Float(), nullable=False),
        sa.Column("update_time", sa.Float(), nullable=False),
        sa.Column("expire_time", sa.Float(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
    )
    _index("files", "project")
    _index("files", "expire_time")

    _create(
        "file_uploads",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("file_id", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(512), nullable=False),
        sa.Column("mime_type", sa.String(256), nullable=False),
        sa.Column("declared_bytes", sa.BigInteger(), nullable=True),
        sa.Column("create_time", sa.Float(), nullable=False),
        sa.Column("expire_time", sa.Float(), nullable=False),
        sa.Column("finalized", sa.Boolean(), nullable=False),
    )
    _index("file_uploads", "project")
    _index("file_uploads", "expire_time")


def downgrade() -> None:
    for table in ("file_uploads", "files", "cached_contents", "api_keys"):
        op.drop_table(table)
