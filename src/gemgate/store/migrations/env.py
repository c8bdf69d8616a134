"""Alembic's entry point: migrate the connection gemgate.store.database hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from gemgate.store.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata(),
        # SQLite cannot ALTER most things in place: batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("gemgate migrations run through gemgate.store.database only")
_run(connection)
