"""Bucket rows."""

from __future__ import annotations

from sqlalchemy import Connection, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from cosflow.db.tables import buckets, objects, uploads
from cosflow.domain.records import Bucket
from cosflow.errors import BucketAlreadyExists


def _bucket(row: object) -> Bucket:
    return Bucket(name=row.name, acl=row.acl, created_at=row.created_at)  # type: ignore[attr-defined]


def get(conn: Connection, name: str) -> Bucket | None:
    row = conn.execute(select(buckets).where(buckets.c.name == name)).first()
    return None if row is None else _bucket(row)


def lock(conn: Connection, name: str) -> None:
    """Hold the bucket's row to the end of the transaction (``FOR NO KEY UPDATE`` on PostgreSQL:
    it does not conflict with the key-share lock an insert of an object row takes on its bucket,
    so two uploads that each wrote their object first cannot deadlock here)."""
    conn.execute(select(buckets.c.name).where(buckets.c.name == name).with_for_update(key_share=True))


def list_all(conn: Connection) -> list[Bucket]:
    return [_bucket(r) for r in conn.execute(select(buckets).order_by(buckets.c.name))]


def names(conn: Connection, limit: int) -> list[str]:
    """Up to ``limit`` bucket names, in name order."""
    return list(conn.execute(select(buckets.c.name).order_by(buckets.c.name).limit(limit)).scalars())


def create(conn: Connection, bucket: Bucket) -> None:
    try:
        with conn.begin_nested():
            conn.execute(insert(buckets).values(name=bucket.name, acl=bucket.acl, created_at=bucket.created_at))
    except IntegrityError as exc:
        raise BucketAlreadyExists(resource=bucket.name) from exc


def set_acl(conn: Connection, name: str, acl: str) -> None:
    conn.execute(update(buckets).where(buckets.c.name == name).values(acl=acl))


def is_empty(conn: Connection, name: str) -> bool:
    has_object = conn.execute(select(exists().where(objects.c.bucket == name))).scalar()
    has_upload = conn.execute(select(exists().where(uploads.c.bucket == name))).scalar()
    return not (has_object or has_upload)


def remove(conn: Connection, name: str) -> None:
    conn.execute(delete(buckets).where(buckets.c.name == name))
