"""Object rows: one per (bucket, key), pointing at a blob."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from cosflow.db.conflicts import insert_absent
from cosflow.db.tables import garbage, objects
from cosflow.domain.records import ObjectAttrs, StoredObject


def attrs_of(row: Any) -> ObjectAttrs:
    """The upload-time attributes stored on an object or upload row."""
    return ObjectAttrs(
        content_type=row.content_type,
        headers=dict(row.headers),
        meta=dict(row.meta),
        storage_class=row.storage_class,
    )


def _object(row: Any) -> StoredObject:
    return StoredObject(
        bucket=row.bucket,
        key=row.key,
        blob_id=row.blob_id,
        size=row.size,
        etag=row.etag,
        last_modified=row.last_modified,
        attrs=attrs_of(row),
    )


def get(conn: Connection, bucket: str, key: str) -> StoredObject | None:
    row = conn.execute(select(objects).where(objects.c.bucket == bucket, objects.c.key == key)).first()
    return None if row is None else _object(row)


def put(conn: Connection, obj: StoredObject) -> str | None:
    """Insert or replace; returns the blob id the replaced row pointed to (now garbage).

    Atomic on both backends: an existing row is locked (``FOR UPDATE``) before it is replaced, and
    a new one is inserted with ``ON CONFLICT DO NOTHING``; when a concurrent PUT of the same key
    inserted it first, the loop locks and replaces that row instead, so its blob becomes garbage
    exactly once and no PUT fails on the primary key."""
    values = {
        "blob_id": obj.blob_id,
        "size": obj.size,
        "etag": obj.etag,
        "content_type": obj.attrs.content_type,
        "last_modified": obj.last_modified,
        "headers": obj.attrs.headers,
        "meta": obj.attrs.meta,
        "storage_class": obj.attrs.storage_class,
    }
    where = and_(objects.c.bucket == obj.bucket, objects.c.key == obj.key)
    while True:
        old = conn.execute(select(objects.c.blob_id).where(where).with_for_update()).scalar()
        if old is not None:
            break
        if insert_absent(conn, objects, {"bucket": obj.bucket, "key": obj.key, **values}):
            return None
    conn.execute(update(objects).where(where).values(**values))
    mark_garbage(conn, [old])
    return old


def remove(conn: Connection, bucket: str, key: str) -> str | None:
    """Delete the row; the blob id it pointed to (now garbage), None when there was none. One
    ``DELETE … RETURNING``: of two concurrent deletes only one gets the blob id back."""
    where = and_(objects.c.bucket == bucket, objects.c.key == key)
    old = conn.execute(delete(objects).where(where).returning(objects.c.blob_id)).scalar()
    if old is None:
        return None
    mark_garbage(conn, [old])
    return old


def page(conn: Connection, bucket: str, prefix: str, after: str, limit: int) -> list[StoredObject]:
    """Objects with key > after and key >= prefix, in key order."""
    query = (
        select(objects)
        .where(objects.c.bucket == bucket, objects.c.key > after, objects.c.key >= prefix)
        .order_by(objects.c.key)
        .limit(limit)
    )
    return [_object(r) for r in conn.execute(query)]


def mark_garbage(conn: Connection, blob_ids: Sequence[str]) -> None:
    if blob_ids:
        conn.execute(insert(garbage), [{"blob_id": b} for b in blob_ids])


def garbage_ids(conn: Connection) -> list[str]:
    return list(conn.execute(select(garbage.c.blob_id)).scalars())


def forget_garbage(conn: Connection, blob_ids: Sequence[str]) -> None:
    if blob_ids:
        conn.execute(delete(garbage).where(garbage.c.blob_id.in_(list(blob_ids))))
