"""Queue rows: one media and one picture queue per bucket, made on first use."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from cosflow.db.tables import queues
from cosflow.domain.ci import Queue


def _queue(row: Any) -> Queue:
    return Queue(
        row.queue_id,
        row.bucket,
        row.kind,
        row.name,
        row.state,
        row.max_size,
        row.max_concurrent,
        row.notify,
        row.created_at,
        row.updated_at,
    )


def insert_queue(conn: Connection, queue: Queue) -> None:
    conn.execute(
        insert(queues).values(
            queue_id=queue.queue_id,
            bucket=queue.bucket,
            kind=queue.kind,
            name=queue.name,
            state=queue.state,
            max_size=queue.max_size,
            max_concurrent=queue.max_concurrent,
            notify=queue.notify_xml,
            created_at=queue.created_at,
            updated_at=queue.updated_at,
        )
    )


def update_queue(conn: Connection, queue: Queue) -> None:
    conn.execute(
        update(queues)
        .where(queues.c.queue_id == queue.queue_id)
        .values(
            name=queue.name,
            state=queue.state,
            max_concurrent=queue.max_concurrent,
            notify=queue.notify_xml,
            updated_at=queue.updated_at,
        )
    )


def bucket_queues(conn: Connection, bucket: str, kind: str) -> list[Queue]:
    query = select(queues).where(queues.c.bucket == bucket, queues.c.kind == kind).order_by(queues.c.created_at)
    return [_queue(r) for r in conn.execute(query)]


def get_queue(conn: Connection, queue_id: str, *, lock: bool = False) -> Queue | None:
    """The queue, or None; ``lock`` holds its row to the end of the transaction (an update
    reads, changes and writes the whole row)."""
    query = select(queues).where(queues.c.queue_id == queue_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    return None if row is None else _queue(row)


def all_queues(conn: Connection) -> list[Queue]:
    return [_queue(r) for r in conn.execute(select(queues))]


def lock_active_queues(conn: Connection) -> list[Queue]:
    """The Active queues nobody else is claiming for, each locked to the end of the transaction
    (``FOR UPDATE SKIP LOCKED``): claims for one queue are serialised, so its running count read
    afterwards is exact and MaxConcurrent holds across processes; a queue another claimer holds is
    skipped, not waited for. On SQLite the write lock serialises every claim."""
    query = select(queues).where(queues.c.state == "Active").order_by(queues.c.queue_id)
    return [_queue(r) for r in conn.execute(query.with_for_update(skip_locked=True))]
