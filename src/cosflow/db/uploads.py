"""Multipart uploads in progress and their parts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from cosflow.db.objects import attrs_of, mark_garbage
from cosflow.db.tables import parts, uploads
from cosflow.domain.records import Part, Upload


def _upload(row: Any) -> Upload:
    return Upload(
        upload_id=row.upload_id,
        bucket=row.bucket,
        key=row.key,
        initiated=row.initiated,
        attrs=attrs_of(row),
    )


def _part(row: Any) -> Part:
    return Part(row.part_number, row.blob_id, row.size, row.etag, row.last_modified)


def create(conn: Connection, upload: Upload) -> None:
    conn.execute(
        insert(uploads).values(
            upload_id=upload.upload_id,
            bucket=upload.bucket,
            key=upload.key,
            initiated=upload.initiated,
            content_type=upload.attrs.content_type,
            headers=upload.attrs.headers,
            meta=upload.attrs.meta,
            storage_class=upload.attrs.storage_class,
        )
    )


def get(conn: Connection, upload_id: str, *, lock: bool = False) -> Upload | None:
    """The upload, or None. ``lock`` holds its row (``FOR UPDATE``) to the end of the transaction:
    what changes an upload (a part, the completion, the abort) takes it first, so on PostgreSQL a
    duplicated CompleteMultipartUpload waits and then finds the upload gone, and two uploads of
    one part number never both insert it."""
    query = select(uploads).where(uploads.c.upload_id == upload_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    return None if row is None else _upload(row)


def list_for_bucket(conn: Connection, bucket: str, prefix: str) -> list[Upload]:
    query = (
        select(uploads)
        .where(uploads.c.bucket == bucket, uploads.c.key >= prefix)
        .order_by(uploads.c.key, uploads.c.initiated, uploads.c.upload_id)
    )
    return [_upload(r) for r in conn.execute(query) if r.key.startswith(prefix)]


def put_part(conn: Connection, upload_id: str, part: Part) -> None:
    where = (parts.c.upload_id == upload_id) & (parts.c.part_number == part.part_number)
    old = conn.execute(select(parts.c.blob_id).where(where)).scalar()
    values = {"blob_id": part.blob_id, "size": part.size, "etag": part.etag, "last_modified": part.last_modified}
    if old is None:
        conn.execute(insert(parts).values(upload_id=upload_id, part_number=part.part_number, **values))
    else:
        conn.execute(update(parts).where(where).values(**values))
        mark_garbage(conn, [old])


def list_parts(conn: Connection, upload_id: str) -> list[Part]:
    query = select(parts).where(parts.c.upload_id == upload_id).order_by(parts.c.part_number)
    return [_part(r) for r in conn.execute(query)]


def remove(conn: Connection, upload_id: str, *, keep_blobs: frozenset[str] = frozenset()) -> None:
    """Drop the upload; its part blobs become garbage except ``keep_blobs``."""
    blob_ids = [p.blob_id for p in list_parts(conn, upload_id) if p.blob_id not in keep_blobs]
    conn.execute(delete(parts).where(parts.c.upload_id == upload_id))
    conn.execute(delete(uploads).where(uploads.c.upload_id == upload_id))
    mark_garbage(conn, blob_ids)
