"""Alembic migrations: the migrated schema is the models' schema, on SQLite and PostgreSQL;
databases made by create_all before migrations are adopted; replicas starting at once agree."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from gemgate.store.database import current_revision, head_revision, open_database, upgrade
from gemgate.store.keys import SqlKeyStore
from gemgate.store.schema import TABLES, metadata
from tests.databases import fresh_postgres_database
from tests.serving import run_cli


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gemgate.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


def schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata()))


def test_the_migrated_schema_is_the_models_schema(empty_url: str) -> None:
    engine = open_database(empty_url)
    try:
        assert schema_diff(engine) == []
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_every_model_table_is_in_the_schema_metadata() -> None:
    assert {t.__tablename__ for t in TABLES} <= set(metadata().tables)


def legacy_database(url: str, drop: tuple[str, ...] = ()) -> None:
    """What create_all made before migrations: revision 0001's tables, no alembic_version."""
    engine = create_engine(url)
    try:
        upgrade(engine, "0001")
        with engine.begin() as connection:
            for table in ("alembic_version", *drop):
                connection.execute(text(f"DROP TABLE {table}"))
    finally:
        engine.dispose()


def test_a_database_made_by_create_all_is_adopted_with_its_rows(empty_url: str) -> None:
    legacy_database(empty_url)
    legacy = create_engine(empty_url)
    with legacy.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO api_keys (id, project, name, prefix, secret_hash, created_at) "
                "VALUES ('k1', 'p', '', 'sk-x', 'h', 1.5)"
            )
        )
    legacy.dispose()
    engine = open_database(empty_url)
    try:
        assert current_revision(engine) == head_revision()
        assert schema_diff(engine) == []
        record = SqlKeyStore(engine).find_by_hash("h")
        assert record is not None and record.id == "k1"
        assert record.limits.models == () and record.limits.rpm is None
    finally:
        engine.dispose()


def test_a_database_from_an_older_release_gains_the_tables_it_lacks(empty_url: str) -> None:
    legacy_database(empty_url, drop=("files", "file_uploads", "cached_contents"))
    engine = open_database(empty_url)
    try:
        assert set(inspect(engine).get_table_names()) >= {"files", "file_uploads", "usage_ledger"}
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_processes_starting_together_migrate_once(empty_url: str) -> None:
    """Replicas start at once on one database: each waits its turn and all come up."""
    code = (
        "import sys; from gemgate.store.database import open_database; open_database(sys.argv[1])"
    )
    starts = [
        subprocess.Popen([sys.executable, "-c", code, empty_url], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in starts]
    assert [p.returncode for p in starts] == [0, 0, 0], errors
    engine = create_engine(empty_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [r[0] for r in rows] == [head_revision()]
    finally:
        engine.dispose()


def test_the_db_commands_report_and_upgrade(tmp_path: Path) -> None:
    before = run_cli("db", "current", "--data-dir", str(tmp_path))
    assert before.returncode == 0 and "current: None" in before.stdout
    upgraded = run_cli("db", "upgrade", "--data-dir", str(tmp_path))
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"at revision {head_revision()}" in upgraded.stdout
    after = run_cli("db", "current", "--data-dir", str(tmp_path))
    assert f"current: {head_revision()}" in after.stdout
