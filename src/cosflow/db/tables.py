"""Schema, as SQLAlchemy Core tables. Alembic migrations in ``migrations/`` create the same."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

buckets = Table(
    "buckets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("acl", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

objects = Table(
    "objects",
    metadata,
    Column("bucket", String(64), ForeignKey("buckets.name"), primary_key=True),
    Column("key", String(1024), primary_key=True),
    Column("blob_id", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("last_modified", UTCDateTime(), nullable=False),
    Column("headers", JSON, nullable=False),
    Column("meta", JSON, nullable=False),
    Column("storage_class", String(32), nullable=False),
)

uploads = Table(
    "uploads",
    metadata,
    Column("upload_id", String(64), primary_key=True),
    Column("bucket", String(64), ForeignKey("buckets.name"), nullable=False, index=True),
    Column("key", String(1024), nullable=False),
    Column("initiated", UTCDateTime(), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("headers", JSON, nullable=False),
    Column("meta", JSON, nullable=False),
    Column("storage_class", String(32), nullable=False),
)

parts = Table(
    "parts",
    metadata,
    Column("upload_id", String(64), ForeignKey("uploads.upload_id"), primary_key=True),
    Column("part_number", Integer, primary_key=True),
    Column("blob_id", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("last_modified", UTCDateTime(), nullable=False),
)

#: Blobs no row points to any more, deleted after the transaction that orphaned them commits.
#: A crash between commit and delete leaves the row, and the next start deletes the blob.
garbage = Table(
    "garbage",
    metadata,
    Column("blob_id", String(64), primary_key=True),
)
