"""A change counter for the API keys, moved by triggers on api_keys.

The key store caches its answers until this counter moves (store/changes.py); until now it
watched SQLite's data_version, which the usage ledger's commit moves after every request.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 21:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# An upsert: the counter row comes back if something emptied the table.
BUMP = (
    "INSERT INTO key_changes (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = key_changes.version + 1"
)
EVENTS = {"inserted": "INSERT", "updated": "UPDATE", "deleted": "DELETE"}


def upgrade() -> None:
    op.create_table(
        "key_changes",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO key_changes (id, version) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION gemgate_api_keys_changed() RETURNS trigger AS $$ "
            f"BEGIN {BUMP}; RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        for name, event in EVENTS.items():
            op.execute(
                f"CREATE TRIGGER api_keys_{name} AFTER {event} ON api_keys "
                "FOR EACH STATEMENT EXECUTE FUNCTION gemgate_api_keys_changed()"
            )
        return
    for name, event in EVENTS.items():
        op.execute(f"CREATE TRIGGER api_keys_{name} AFTER {event} ON api_keys BEGIN {BUMP}; END")


def downgrade() -> None:
    for name in EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS api_keys_{name}" + _on_table())
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS gemgate_api_keys_changed()")
    op.drop_table("key_changes")


def _on_table() -> str:
    return " ON api_keys" if op.get_bind().dialect.name == "postgresql" else ""
