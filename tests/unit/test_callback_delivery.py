"""Delivery slots (in all and per destination), the claim that honours them and the batched record
of attempts, as units: the claim and the record run on a real SQLite outbox. Then the dispatcher's
loop against a real receiver with the record failing (a locked database, a full disk): an outcome
is never lost, so a callback is never sent twice."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from cosflow.callbacks import dispatcher as dispatch
from cosflow.callbacks.dispatcher import CallbackDispatcher
from cosflow.callbacks.slots import Slots, destination
from cosflow.db import callbacks as callback_rows
from cosflow.db.engine import make_engine, migrate
from cosflow.domain import times
from cosflow.domain.deliveries import Attempt, Callback
from cosflow.errors import InsufficientStorage
from cosflow.services.scheduler import Wakeup
from cosflow.settings import Settings
from tests.support.receiver import Receiver

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=50)


def _callback(url: str, run_id: str = "", seq: int = 1, age: float = 0.0) -> Callback:
    when = NOW - timedelta(seconds=age)
    return Callback(
        callback_id="msg_" + uuid.uuid4().hex,
        run_id=run_id or "i" + uuid.uuid4().hex,
        seq=seq,
        event="WorkflowStart",
        job_id="",
        url=url,
        content_type="application/json",
        body="{}",
        secret="",
        state="pending",
        attempts=0,
        next_attempt_at=when,
        last_error="",
        created_at=when,
        delivered_at=None,
    )


@pytest.mark.parametrize(
    "a, b",
    [
        ("http://Hooks.Example/a", "http://hooks.example:80/b?x=1"),
        ("https://hooks.example/a", "https://hooks.example:443/"),
        ("http://[::1]:9000/a", "http://[::1]:9000/b"),
        ("http://user:pw@h.example:8080/a", "http://h.example:8080/z"),
    ],
)
def test_one_destination(a: str, b: str) -> None:
    assert destination(a) == destination(b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("http://h.example/a", "https://h.example/a"),  # scheme
        ("http://h.example/a", "http://h.example:8080/a"),  # port
        ("http://h.example/a", "http://g.example/a"),  # host
        ("http://127.0.0.1:9000/", "http://127.0.0.1:9001/"),
    ],
)
def test_different_destinations(a: str, b: str) -> None:
    assert destination(a) != destination(b)


def test_destination_of_values() -> None:
    assert destination("HTTPS://H.example/x") == "https://h.example:443"
    assert destination("http://[::1]/x") == "http://[::1]:80"
    assert destination("http://h.example:99999/x") == "http://h.example:99999/x"  # unusable: its own


def test_plan_keeps_to_both_bounds() -> None:
    slots = Slots(total=5, per_destination=2)
    plan = slots.plan()
    a = [_callback("http://a.example/hook") for _ in range(3)]
    b = [_callback("http://b.example/hook") for _ in range(3)]
    c = [_callback("http://c.example/hook") for _ in range(3)]
    taken = [cb for cb in [*a, *b, *c] if plan.take(cb.callback_id, cb.url)]
    assert taken == [a[0], a[1], b[0], b[1], c[0]]  # 2 per destination, 5 in all
    assert plan.room == 0 and not plan.take("msg_d", "http://d.example/")
    assert slots.free == 5  # a plan is a copy: nothing is held until the claim's rows are added


def test_slots_count_what_is_in_flight_and_free_it() -> None:
    slots = Slots(total=4, per_destination=2)
    a1, a2 = _callback("http://a.example/1"), _callback("http://a.example:80/2")
    b1 = _callback("http://b.example/1")
    for cb in (a1, a2, b1):
        slots.add(cb)
    plan = slots.plan()
    assert slots.free == 1 and plan.room == 1
    assert plan.skip_urls == {"http://a.example/1", "http://a.example:80/2"}  # a is full, b is not
    assert plan.busy_ids == {a1.callback_id, a2.callback_id, b1.callback_id}
    assert not plan.take("msg_a3", "http://A.example/3")  # a's share is taken, whatever the URL says
    assert not plan.take(b1.callback_id, b1.url)  # in flight already: never twice
    assert plan.take("msg_b2", "http://b.example/2")
    slots.remove(a1)
    slots.remove(a1)  # removing twice frees once
    assert slots.free == 2 and slots.plan().skip_urls == frozenset()
    assert slots.plan().counts == Counter({"http://a.example:80": 1, "http://b.example:80": 1})


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'cosflow.db'}")
    migrate(engine)
    return engine


def _seed(engine: Engine, callbacks: list[Callback]) -> None:
    with engine.begin() as conn:
        for callback in callbacks:
            callback_rows.add(conn, callback)


def test_claim_passes_over_a_busy_destination_however_many_rows_it_has(engine: Engine) -> None:
    # 500 older rows for a destination whose share is in flight (under two URLs, one of them not
    # in flight, so only the per-row check can pass over it), then the rows of another.
    busy = [_callback("http://hung.example/a", age=60) for _ in range(250)]
    busy += [_callback("http://hung.example:80/b", age=60) for _ in range(250)]
    other = _callback("http://ok.example/hook", run_id="irun", seq=1, age=1)
    after = _callback("http://ok.example/hook", run_id="irun", seq=2)  # waits for its run's first
    fresh = [_callback("http://ok2.example/hook") for _ in range(3)]
    _seed(engine, [*busy, other, after, *fresh])
    slots = Slots(total=10, per_destination=2)
    for callback in busy[:2]:
        slots.add(callback)
    plan = slots.plan()
    with engine.begin() as conn:
        claimed = callback_rows.claim_due(conn, NOW, plan.room, LEASE, accept=plan.take, skip_urls=plan.skip_urls)
    assert [c.callback_id for c in claimed] == [other.callback_id, fresh[0].callback_id, fresh[1].callback_id]
    with engine.begin() as conn:  # what was claimed is leased; the rest stays claimable
        again = callback_rows.claim_due(conn, NOW, 10, LEASE)
        later = callback_rows.claim_due(conn, NOW + LEASE + timedelta(seconds=1), 1000, LEASE)
    assert {c.callback_id for c in again}.isdisjoint(c.callback_id for c in claimed)
    assert len(again) == 10 and after.callback_id not in {c.callback_id for c in again + later}
    assert {c.callback_id for c in claimed} <= {c.callback_id for c in later}  # leases run out


def test_claim_takes_nothing_without_room(engine: Engine) -> None:
    _seed(engine, [_callback("http://ok.example/")])
    with engine.begin() as conn:
        assert callback_rows.claim_due(conn, NOW, 0, LEASE) == []
        assert len(callback_rows.claim_due(conn, NOW, 1, LEASE)) == 1


def test_record_writes_each_attempt_and_only_the_changes_given(engine: Engine) -> None:
    delivered, retried = _callback("http://a.example/"), _callback("http://b.example/", age=5)
    _seed(engine, [delivered, retried])
    later = NOW + timedelta(seconds=30)
    with engine.begin() as conn:
        claimed = callback_rows.claim_due(conn, NOW, 2, LEASE)
        assert len(claimed) == 2
        callback_rows.record(
            conn,
            [
                (
                    delivered,
                    Attempt(NOW, 200, 12, "", "ok"),
                    {"state": "delivered", "attempts": 1, "delivered_at": NOW},
                ),
                (retried, Attempt(NOW, 503, 7, "HTTP 503", "busy"), {"attempts": 1, "next_attempt_at": later}),
            ],
        )
        with pytest.raises(ValueError, match="lease_until"):
            callback_rows.record(conn, [(retried, Attempt(NOW, 200, 1, "", ""), {"lease_until": None})])
    with engine.connect() as conn:
        done, done_attempts = callback_rows.get(conn, delivered.callback_id) or pytest.fail("missing")
        again, again_attempts = callback_rows.get(conn, retried.callback_id) or pytest.fail("missing")
    assert (done.state, done.attempts, done.delivered_at, done.next_attempt_at) == ("delivered", 1, NOW, NOW)
    assert (again.state, again.attempts, again.last_error, again.next_attempt_at) == ("pending", 1, "", later)
    assert [(a.status_code, a.response_body) for a in done_attempts] == [(200, "ok")]
    assert [(a.status_code, a.error) for a in again_attempts] == [(503, "HTTP 503")]
    with engine.begin() as conn:  # the leases are released: due again at its retry time, not before
        assert callback_rows.claim_due(conn, NOW + timedelta(seconds=29), 5, LEASE) == []
        assert [c.callback_id for c in callback_rows.claim_due(conn, later, 5, LEASE)] == [retried.callback_id]


def test_record_after_a_redeliver_mid_attempt_keeps_the_fresh_start(engine: Engine) -> None:
    """A redeliver issued while an attempt is in flight releases the lease and puts the callback
    back at the start of the schedule; that attempt's outcome, recorded after, is logged but must
    not overwrite the fresh start (the claim-time copy said attempts 2, the outcome 'delivered')."""
    delivered, retried = _callback("http://a.example/"), _callback("http://b.example/")
    _seed(engine, [replace(delivered, attempts=2), replace(retried, attempts=2)])
    later, redelivered_at = NOW + timedelta(seconds=30), NOW + timedelta(seconds=1)
    with engine.begin() as conn:
        claimed = {c.callback_id: c for c in callback_rows.claim_due(conn, NOW, 2, LEASE)}
        assert callback_rows.redeliver(conn, list(claimed), redelivered_at) == 2
        callback_rows.record(
            conn,
            [
                (
                    claimed[delivered.callback_id],
                    Attempt(NOW, 200, 12, "", "ok"),
                    {"state": "delivered", "attempts": 3, "delivered_at": NOW, "last_error": ""},
                ),
                (
                    claimed[retried.callback_id],
                    Attempt(NOW, 503, 7, "HTTP 503", ""),
                    {"attempts": 3, "next_attempt_at": later, "last_error": "HTTP 503"},
                ),
            ],
        )
    with engine.begin() as conn:
        for callback in (delivered, retried):
            row, attempts = callback_rows.get(conn, callback.callback_id) or pytest.fail("missing")
            assert (row.state, row.attempts, row.next_attempt_at, row.delivered_at) == (
                "pending",
                0,
                redelivered_at,
                None,
            ), row
            assert len(attempts) == 1  # the attempt itself is in the log
        again = callback_rows.claim_due(conn, redelivered_at, 5, LEASE)
    assert {c.callback_id for c in again} == {delivered.callback_id, retried.callback_id}  # sent again


class _FailingRecord:
    """``callback_rows.record`` as the dispatcher sees it, raising ``error`` while ``failing`` (at
    most ``times`` times when given): a database locked past its busy timeout, a full disk."""

    def __init__(self, error: Exception, times: int | None = None) -> None:
        self.error, self.times, self.failing, self.failures = error, times, True, 0
        self._record = callback_rows.record  # the real one, before the test puts this in its place

    def __call__(self, conn: Any, results: Any) -> None:
        if results and self.failing and (self.times is None or self.failures < self.times):
            self.failures += 1
            raise self.error
        self._record(conn, results)


def _due_now(url: str) -> Callback:
    now = times.now()
    return replace(_callback(url), next_attempt_at=now, created_at=now)


def _state(engine: Engine, callback_id: str) -> tuple[str, int, int]:
    """The callback's state, attempts counted on it, and attempt rows in its log."""
    with engine.connect() as conn:
        row, attempts = callback_rows.get(conn, callback_id) or pytest.fail("missing")
    return row.state, row.attempts, len(attempts)


def _dispatcher(engine: Engine, tmp_path: Path) -> CallbackDispatcher:
    settings = Settings(data_dir=tmp_path, callback_timeout=1.0, callback_connect_timeout=1.0)
    return CallbackDispatcher(engine, settings, Wakeup())


async def _until(check: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def test_an_outcome_whose_record_failed_is_recorded_later_and_never_sent_twice(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attempt reaches the receiver, then recording it fails once: the outcome is kept and
    recorded by a later round. Before, it was dropped and the row stayed leased until the lease
    (attempt budget + 30 s) ran out, then was claimed and POSTed a second time."""
    receiver = Receiver().start()
    callback = _due_now(receiver.url)
    _seed(engine, [callback])
    failing = _FailingRecord(RuntimeError("database is locked"), times=1)
    monkeypatch.setattr(dispatch.callback_rows, "record", failing)
    dispatcher = _dispatcher(engine, tmp_path)

    async def main() -> None:
        await dispatcher.start()
        # Waits past the lease, so the old behaviour shows as its second POST.
        await _until(lambda: _state(engine, callback.callback_id)[0] == "delivered", dispatcher._budget + 40)
        await asyncio.sleep(1.0)  # a second POST, were one coming at once, would arrive meanwhile
        await dispatcher.stop()

    try:
        asyncio.run(main())
    finally:
        receiver.stop()
    assert failing.failures == 1
    assert _state(engine, callback.callback_id) == ("delivered", 1, 1)
    assert len(receiver.received) == 1, [r.at for r in receiver.received]


def test_stop_records_outcomes_that_finished_and_a_full_disk_logs_no_traceback(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The disk is full, so the attempt that reached the receiver cannot be recorded; space is
    freed and the server stops before the loop's next try: stop() records it (before, stop()
    dropped it, the row stayed leased with no attempt logged, and the restart POSTed it again).
    Each failure is one warning line, with no traceback."""
    receiver = Receiver().start()
    callback = _due_now(receiver.url)
    _seed(engine, [callback])
    failing = _FailingRecord(InsufficientStorage())
    monkeypatch.setattr(dispatch.callback_rows, "record", failing)
    dispatcher = _dispatcher(engine, tmp_path)

    async def main() -> None:
        await dispatcher.start()
        await _until(lambda: failing.failures >= 1, 30)
        failing.failing = False  # space freed (the loop waits 1 s before its next try)...
        await dispatcher.stop()  # ...and the server stops at once

    caplog.set_level(logging.WARNING, logger=dispatch.__name__)
    try:
        asyncio.run(main())
    finally:
        receiver.stop()
    assert failing.failures >= 1
    assert _state(engine, callback.callback_id) == ("delivered", 1, 1)
    assert len(receiver.received) == 1
    complaints = [r for r in caplog.records if r.name == dispatch.__name__]
    assert len(complaints) == failing.failures and all("disk is full" in r.getMessage() for r in complaints), complaints
    assert all(r.exc_info is None for r in complaints)
