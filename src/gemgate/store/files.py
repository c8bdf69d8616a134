"""Files API metadata at rest: finished files and open upload sessions (core.ports.FileStore).

A file row is written only when its bytes are committed, so a listing never shows a file
whose upload did not finish.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, LargeBinary, String, delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from gemgate.core.types import FileState, StoredFile, UploadSession
from gemgate.store.base import Base


class FileRow(Base):
    __tablename__ = "files"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project: Mapped[str] = mapped_column(String(128), index=True)
    display_name: Mapped[str] = mapped_column(String(512), default="")
    mime_type: Mapped[str] = mapped_column(String(256))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    create_time: Mapped[float] = mapped_column(Float)
    update_time: Mapped[float] = mapped_column(Float)
    expire_time: Mapped[float] = mapped_column(Float, index=True)
    state: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))


class UploadRow(Base):
    __tablename__ = "file_uploads"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project: Mapped[str] = mapped_column(String(128), index=True)
    file_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(512), default="")
    mime_type: Mapped[str] = mapped_column(String(256))
    declared_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    create_time: Mapped[float] = mapped_column(Float)
    expire_time: Mapped[float] = mapped_column(Float, index=True)
    finalized: Mapped[bool] = mapped_column(Boolean, default=False)


def _file(row: FileRow) -> StoredFile:
    return StoredFile(
        id=row.id,
        project=row.project,
        display_name=row.display_name,
        mime_type=row.mime_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        create_time=row.create_time,
        update_time=row.update_time,
        expire_time=row.expire_time,
        state=FileState(row.state),
        source=row.source,
    )


def _upload(row: UploadRow) -> UploadSession:
    return UploadSession(
        id=row.id,
        project=row.project,
        file_id=row.file_id,
        display_name=row.display_name,
        mime_type=row.mime_type,
        declared_bytes=row.declared_bytes,
        create_time=row.create_time,
        expire_time=row.expire_time,
        finalized=row.finalized,
    )


class SqlFileStore:
    """core.ports.FileStore over SQLAlchemy."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_file(self, file: StoredFile) -> None:
        with Session(self._engine) as session, session.begin():
            session.add(
                FileRow(
                    id=file.id,
                    project=file.project,
                    display_name=file.display_name,
                    mime_type=file.mime_type,
                    size_bytes=file.size_bytes,
                    sha256=file.sha256,
                    create_time=file.create_time,
                    update_time=file.update_time,
                    expire_time=file.expire_time,
                    state=file.state.value,
                    source=file.source,
                )
            )

    def get_file(self, file_id: str) -> StoredFile | None:
        with Session(self._engine) as session:
            row = session.get(FileRow, file_id)
            return _file(row) if row else None

    def list_files(self, project: str) -> list[StoredFile]:
        with Session(self._engine) as session:
            rows = session.scalars(
                select(FileRow)
                .where(FileRow.project == project)
                .order_by(FileRow.create_time.desc(), FileRow.id)
            )
            return [_file(row) for row in rows]

    def delete_file(self, file_id: str) -> bool:
        with Session(self._engine) as session, session.begin():
            result = session.execute(delete(FileRow).where(FileRow.id == file_id))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def expired_files(self, now: float) -> list[StoredFile]:
        with Session(self._engine) as session:
            rows = session.scalars(select(FileRow).where(FileRow.expire_time <= now))
            return [_file(row) for row in rows]

    def project_bytes(self, project: str) -> int:
        with Session(self._engine) as session:
            files = session.scalar(
                select(func.coalesce(func.sum(FileRow.size_bytes), 0)).where(
                    FileRow.project == project
                )
            )
            reserved = session.scalar(
                select(func.coalesce(func.sum(UploadRow.declared_bytes), 0)).where(
                    UploadRow.project == project, UploadRow.finalized.is_(False)
                )
            )
            return int(files or 0) + int(reserved or 0)

    def add_upload(self, upload: UploadSession) -> None:
        with Session(self._engine) as session, session.begin():
            session.add(
                UploadRow(
                    id=upload.id,
                    project=upload.project,
                    file_id=upload.file_id,
                    display_name=upload.display_name,
                    mime_type=upload.mime_type,
                    declared_bytes=upload.declared_bytes,
                    create_time=upload.create_time,
                    expire_time=upload.expire_time,
                    finalized=upload.finalized,
                )
            )

    def get_upload(self, upload_id: str) -> UploadSession | None:
        with Session(self._engine) as session:
            row = session.get(UploadRow, upload_id)
            return _upload(row) if row else None

    def finish_upload(self, upload_id: str) -> None:
        with Session(self._engine) as session, session.begin():
            row = session.get(UploadRow, upload_id)
            if row is not None:
                row.finalized = True

    def delete_upload(self, upload_id: str) -> bool:
        with Session(self._engine) as session, session.begin():
            result = session.execute(delete(UploadRow).where(UploadRow.id == upload_id))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def expired_uploads(self, now: float) -> list[UploadSession]:
        with Session(self._engine) as session:
            rows = session.scalars(select(UploadRow).where(UploadRow.expire_time <= now))
            return [_upload(row) for row in rows]
