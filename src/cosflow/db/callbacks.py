"""The callback outbox and its attempt log."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, exists, func, insert, select, update
from sqlalchemy.orm import aliased

from cosflow.db.tables import callback_attempts, callbacks
from cosflow.domain.deliveries import Attempt, Callback

_FIELDS = [c.name for c in callbacks.columns if c.name != "lease_until"]


def _callback(row: Any) -> Callback:
    return Callback(**{name: getattr(row, name) for name in _FIELDS})


def add(conn: Connection, callback: Callback) -> None:
    conn.execute(insert(callbacks).values(**{name: getattr(callback, name) for name in _FIELDS}))


def next_seq(conn: Connection, run_id: str) -> int:
    return (
        int(
            conn.execute(
                select(func.coalesce(func.max(callbacks.c.seq), 0)).where(callbacks.c.run_id == run_id)
            ).scalar_one()
        )
        + 1
    )


def claim_due(
    conn: Connection,
    now: datetime,
    limit: int,
    lease: timedelta,
    accept: Callable[[Callback], bool] = lambda _: True,
    skip_urls: Collection[str] = (),
) -> list[Callback]:
    """Up to ``limit`` pending callbacks that are due, not leased, and first in line for their run,
    oldest due first; each leased to us until ``now + lease``. ``accept`` is asked about each
    candidate in turn and may pass over it (its destination is busy); rows whose URL is in
    ``skip_urls`` are not even read. The candidates are read lazily, so passing over many rows of
    a busy destination costs a scan, never a missed row of another."""
    earlier = aliased(callbacks)
    blocked = exists().where(
        earlier.c.run_id == callbacks.c.run_id, earlier.c.seq < callbacks.c.seq, earlier.c.state == "pending"
    )
    query = (
        select(callbacks)
        .where(
            callbacks.c.state == "pending",
            callbacks.c.next_attempt_at <= now,
            (callbacks.c.lease_until.is_(None)) | (callbacks.c.lease_until < now),
            ~blocked,
        )
        .order_by(callbacks.c.next_attempt_at, callbacks.c.created_at)
    )
    if skip_urls:
        query = query.where(callbacks.c.url.not_in(list(skip_urls)))
    rows: list[Callback] = []
    if limit <= 0:
        return rows
    result = conn.execute(query)
    for row in result:
        callback = _callback(row)
        if accept(callback):
            rows.append(callback)
            if len(rows) >= limit:
                break
    result.close()
    if rows:
        ids = [r.callback_id for r in rows]
        conn.execute(update(callbacks).where(callbacks.c.callback_id.in_(ids)).values(lease_until=now + lease))
    return rows


def release_leases(conn: Connection) -> int:
    """At start: pending callbacks a dead process had leased become claimable now; how many."""
    result = conn.execute(
        update(callbacks)
        .where(callbacks.c.state == "pending", callbacks.c.lease_until.is_not(None))
        .values(lease_until=None)
    )
    return result.rowcount


def record(conn: Connection, callback_id: str, attempt: Attempt, **changes: Any) -> None:
    conn.execute(
        insert(callback_attempts).values(
            callback_id=callback_id,
            attempted_at=attempt.attempted_at,
            status_code=attempt.status_code,
            latency_ms=attempt.latency_ms,
            error=attempt.error,
            response_body=attempt.response_body,
        )
    )
    conn.execute(update(callbacks).where(callbacks.c.callback_id == callback_id).values(lease_until=None, **changes))


def get(conn: Connection, callback_id: str) -> tuple[Callback, list[Attempt]] | None:
    row = conn.execute(select(callbacks).where(callbacks.c.callback_id == callback_id)).first()
    if row is None:
        return None
    query = (
        select(callback_attempts)
        .where(callback_attempts.c.callback_id == callback_id)
        .order_by(callback_attempts.c.attempt_id)
    )
    attempts = [
        Attempt(r.attempted_at, r.status_code, r.latency_ms, r.error, r.response_body) for r in conn.execute(query)
    ]
    return _callback(row), attempts


def search(
    conn: Connection, *, run_id: str = "", state: str = "", since: datetime | None = None, limit: int = 100
) -> list[Callback]:
    where = []
    if run_id:
        where.append(callbacks.c.run_id == run_id)
    if state:
        where.append(callbacks.c.state == state)
    if since is not None:
        where.append(callbacks.c.created_at >= since)
    query = select(callbacks).where(and_(*where)).order_by(callbacks.c.created_at, callbacks.c.run_id, callbacks.c.seq)
    return [_callback(r) for r in conn.execute(query.limit(limit))]


def redeliver(conn: Connection, callback_ids: Sequence[str], now: datetime) -> int:
    """Back in line from the start of the retry schedule."""
    return _back_in_line(conn, callbacks.c.callback_id.in_(list(callback_ids)), now)


def redeliver_dead_since(conn: Connection, since: datetime, now: datetime) -> int:
    """Every dead callback created at or after ``since``, back in line (one statement)."""
    return _back_in_line(conn, (callbacks.c.state == "dead") & (callbacks.c.created_at >= since), now)


def _back_in_line(conn: Connection, which: Any, now: datetime) -> int:
    query = (
        update(callbacks)
        .where(which)
        .values(state="pending", attempts=0, next_attempt_at=now, lease_until=None, delivered_at=None)
    )
    return conn.execute(query).rowcount
