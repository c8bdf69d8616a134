"""Settings replicas share: the signing secret (inline, from a file, or per data dir), the
database URL and the blob directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gemgate.app import load_signing_secret
from gemgate.config import Settings
from gemgate.store.secrets import read_secret


def test_an_inline_secret_wins_over_a_file_and_the_data_dir(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-the-mounted-file-0123456789\n")
    both = Settings(
        data_dir=tmp_path,
        signing_secret="inline-secret-0123456789",
        signing_secret_file=secret_file,
    )
    assert load_signing_secret(both) == b"inline-secret-0123456789"
    from_file = Settings(data_dir=tmp_path, signing_secret_file=secret_file)
    assert load_signing_secret(from_file) == b"from-the-mounted-file-0123456789"
    assert not (tmp_path / "signing.key").exists()


def test_without_a_shared_secret_each_data_dir_makes_its_own(tmp_path: Path) -> None:
    first = load_signing_secret(Settings(data_dir=tmp_path / "a"))
    assert first == load_signing_secret(Settings(data_dir=tmp_path / "a"))
    assert first != load_signing_secret(Settings(data_dir=tmp_path / "b"))


def test_a_binary_secret_file_is_read_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "signing.key"
    path.write_bytes(b"\xff\xfe" + bytes(29) + b"\n")
    assert read_secret(path) == b"\xff\xfe" + bytes(29) + b"\n"


def test_a_short_signing_secret_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="signing_secret must be at least 16 bytes"):
        Settings(signing_secret="short")


def test_a_malformed_database_url_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="database_url must be a SQLAlchemy URL"):
        Settings(database_url="not a url")


def test_sqlite_and_blobs_default_to_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.sql_url == f"sqlite:///{tmp_path / 'gemgate.db'}"
    assert settings.blob_root == tmp_path / "files"
    shared = Settings(
        data_dir=tmp_path, database_url="postgresql+psycopg://u@db/g", blob_dir=Path("/shared")
    )
    assert shared.sql_url == "postgresql+psycopg://u@db/g" and shared.blob_root == Path("/shared")
