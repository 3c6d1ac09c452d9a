"""The callback outbox and its attempt log."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, exists, func, insert, select, update
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


def _due_query(skipping: bool) -> Select[Any]:
    """Ids and URLs of pending callbacks due at ``:now``, not leased, first in line for their run,
    in the due index's own order: nothing is sorted, so reading the first ``:wanted`` costs those
    rows, not the size of the backlog. On PostgreSQL the rows are locked ``FOR UPDATE SKIP
    LOCKED``: a row another dispatcher is claiming is passed over, and one it leased meanwhile
    fails the lease test when rechecked, so no two dispatchers claim one callback."""
    earlier = aliased(callbacks)
    blocked = exists().where(
        earlier.c.run_id == callbacks.c.run_id, earlier.c.seq < callbacks.c.seq, earlier.c.state == "pending"
    )
    now = bindparam("now", type_=callbacks.c.next_attempt_at.type)
    query = (
        select(callbacks.c.callback_id, callbacks.c.url)
        .where(
            callbacks.c.state == "pending",
            callbacks.c.next_attempt_at <= now,
            (callbacks.c.lease_until.is_(None)) | (callbacks.c.lease_until < now),
            ~blocked,
        )
        .order_by(callbacks.c.next_attempt_at)
        .limit(bindparam("wanted"))
        .with_for_update(skip_locked=True, of=callbacks)
    )
    return query.where(callbacks.c.url.not_in(bindparam("skip", expanding=True))) if skipping else query


_DUE = _due_query(skipping=False)
_DUE_SKIPPING = _due_query(skipping=True)


def claim_due(
    conn: Connection,
    now: datetime,
    limit: int,
    lease: timedelta,
    accept: Callable[[str, str], bool] = lambda _id, _url: True,
    skip_urls: Collection[str] = (),
) -> list[Callback]:
    """Up to ``limit`` pending callbacks that are due, not leased, and first in line for their run,
    oldest due first; each leased to us until ``now + lease``.

    ``accept(callback_id, url)`` may pass over a candidate because of where it goes (its
    destination is busy); the rest of that URL's rows are then left out of this claim, as are those
    in ``skip_urls``. Each round reads at most what is still wanted and either takes a row or
    leaves out a new URL, so a backlog for a busy destination is passed over by the database, not
    read row by row."""
    taken: list[str] = []
    skip = set(skip_urls)
    while len(taken) < limit:
        wanted = limit - len(taken)
        params: dict[str, Any] = {"now": now, "wanted": wanted}
        if skip:
            params["skip"] = sorted(skip)
        candidates = conn.execute(_DUE_SKIPPING if skip else _DUE, params).all()
        chosen = [row.callback_id for row in candidates if accept(row.callback_id, row.url)]
        picked = set(chosen)
        if chosen:
            leased = update(callbacks).where(callbacks.c.callback_id.in_(chosen)).values(lease_until=now + lease)
            conn.execute(leased)
        taken += chosen
        skip.update(row.url for row in candidates if row.callback_id not in picked)
        if len(candidates) < wanted:
            break  # nothing more is due
    if not taken:
        return []
    rows = conn.execute(select(callbacks).where(callbacks.c.callback_id.in_(taken)))
    found = {row.callback_id: _callback(row) for row in rows}
    return [found[callback_id] for callback_id in taken]


def release_leases(conn: Connection) -> int:
    """At start: pending callbacks a dead process had leased become claimable now; how many."""
    result = conn.execute(
        update(callbacks)
        .where(callbacks.c.state == "pending", callbacks.c.lease_until.is_not(None))
        .values(lease_until=None)
    )
    return result.rowcount


#: What recording an attempt may change on its callback (the lease is always released).
_RECORDED = ("state", "attempts", "next_attempt_at", "last_error", "delivered_at")


def record(conn: Connection, results: Sequence[tuple[Callback, Attempt, Mapping[str, Any]]]) -> None:
    """Each attempt into the log; on its callback, only the keys in its ``changes`` (of
    ``_RECORDED``) with the lease released, and only while the callback is still leased. A callback
    redelivered while its attempt was in flight (:func:`redeliver` releases the lease) keeps the
    fresh start the redeliver gave it (pending, attempts 0, due at once): its attempt is logged, the
    rest of the outcome is dropped, and the callback is delivered again. Raises ``ValueError`` for a
    key outside ``_RECORDED``. One insert, and one update per distinct set of keys."""
    for _, _, changes in results:
        if not set(changes) <= set(_RECORDED):
            raise ValueError(f"cannot record {sorted(set(changes) - set(_RECORDED))}")
    if not results:
        return
    conn.execute(
        insert(callback_attempts),
        [
            {
                "callback_id": callback.callback_id,
                "attempted_at": attempt.attempted_at,
                "status_code": attempt.status_code,
                "latency_ms": attempt.latency_ms,
                "error": attempt.error,
                "response_body": attempt.response_body,
            }
            for callback, attempt, _ in results
        ],
    )
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for callback, _, changes in results:
        values = {"the_id": callback.callback_id, **{f"new_{name}": value for name, value in changes.items()}}
        by_keys.setdefault(tuple(sorted(changes)), []).append(values)
    for names, values in by_keys.items():
        statement = (
            update(callbacks)
            .where(callbacks.c.callback_id == bindparam("the_id"), callbacks.c.lease_until.is_not(None))
            .values(lease_until=None, **{name: bindparam(f"new_{name}") for name in names})
        )
        conn.execute(statement, values)


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
