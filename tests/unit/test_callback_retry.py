"""The callback retry decision (``CallbackDispatcher._next``, ``_retry_after``) with a schedule whose
gaps all differ, so an off-by-one, a missing backoff or an uncapped Retry-After each show.

The decision is a method of the dispatcher and reads only its settings: no engine, no loop, no
network is needed to ask it what happens after an attempt.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cosflow.callbacks.dispatcher import CallbackDispatcher, Outcome, _retry_after
from cosflow.domain.deliveries import Attempt, Callback
from cosflow.services.scheduler import Wakeup
from cosflow.settings import Settings

#: Seconds before attempts 1..4 (the first is immediate); after the 4th failure the callback is dead.
SCHEDULE = (0, 10, 100, 1000)
CAP = 50
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DRAWS = 200  # the delay is jittered by +-10%: enough draws to see both ends of the band


def _dispatcher(schedule: tuple[int, ...] = SCHEDULE, cap: int = CAP) -> CallbackDispatcher:
    settings = Settings(callback_retry_schedule=schedule, callback_retry_after_cap=cap)
    return CallbackDispatcher(None, settings, Wakeup())  # type: ignore[arg-type]


def _outcome(
    attempts_before: int,
    *,
    status: int | None = 503,
    delivered: bool = False,
    permanent: bool = False,
    retry_after: float | None = None,
) -> Outcome:
    callback = Callback(
        callback_id="msg_1",
        run_id="i1",
        seq=1,
        event="WorkflowStart",
        job_id="",
        url="http://127.0.0.1:9/",
        content_type="application/xml",
        body="<Response/>",
        secret="",
        state="pending",
        attempts=attempts_before,
        next_attempt_at=NOW,
        last_error="",
        created_at=NOW,
        delivered_at=None,
    )
    error = "" if delivered else (f"HTTP {status}" if status else "ClientConnectorError: refused")
    attempt = Attempt(NOW, status, 12, error, "")
    return Outcome(callback, attempt, delivered, permanent, retry_after)


def _delays(outcome: Outcome, dispatcher: CallbackDispatcher | None = None) -> list[float]:
    dispatcher = dispatcher or _dispatcher()
    delays = []
    for _ in range(DRAWS):
        change = dispatcher._next(outcome, NOW)
        assert "state" not in change, change  # still pending
        delays.append((change["next_attempt_at"] - NOW).total_seconds())  # type: ignore[operator]
    return delays


@pytest.mark.parametrize(("attempts_before", "gap"), [(0, 10), (1, 100), (2, 1000)])
def test_each_failed_attempt_waits_the_next_gap_of_the_schedule(attempts_before: int, gap: int) -> None:
    """After attempt n (1-based) fails, attempt n+1 waits ``schedule[n]``, jittered by +-10%."""
    delays = _delays(_outcome(attempts_before))
    assert all(0.9 * gap <= d <= 1.1 * gap for d in delays), (gap, min(delays), max(delays))
    assert min(delays) < 0.95 * gap and max(delays) > 1.05 * gap  # jittered, not a fixed gap
    change = _dispatcher()._next(_outcome(attempts_before), NOW)
    assert change["attempts"] == attempts_before + 1 and change["last_error"] == "HTTP 503"


def test_a_network_error_is_retried_on_the_same_schedule() -> None:
    delays = _delays(_outcome(1, status=None))
    assert all(90 <= d <= 110 for d in delays)


def test_the_last_attempt_failing_makes_the_callback_dead() -> None:
    change = _dispatcher()._next(_outcome(len(SCHEDULE) - 1), NOW)
    assert change == {"state": "dead", "attempts": len(SCHEDULE), "last_error": "HTTP 503"}


def test_a_one_entry_schedule_gives_one_attempt() -> None:
    change = _dispatcher(schedule=(0,))._next(_outcome(0), NOW)
    assert change == {"state": "dead", "attempts": 1, "last_error": "HTTP 503"}


def test_delivered_is_final_and_clears_the_error() -> None:
    change = _dispatcher()._next(_outcome(2, status=200, delivered=True), NOW)
    assert change == {"state": "delivered", "attempts": 3, "delivered_at": NOW, "last_error": ""}


@pytest.mark.parametrize("attempts_before", [0, 2])
def test_a_permanent_refusal_is_dead_at_once(attempts_before: int) -> None:
    """410 Gone, or an address the guard refuses: no retry whatever is left of the schedule."""
    change = _dispatcher()._next(_outcome(attempts_before, status=410, permanent=True), NOW)
    assert change == {"state": "dead", "attempts": attempts_before + 1, "last_error": "HTTP 410"}


def test_retry_after_longer_than_the_schedule_gap_is_honoured_exactly() -> None:
    delays = _delays(_outcome(0, retry_after=30))  # gap 10 (at most 11 with jitter), cap 50
    assert set(delays) == {30.0}


def test_retry_after_longer_than_the_cap_waits_the_cap() -> None:
    delays = _delays(_outcome(0, retry_after=3600))
    assert set(delays) == {float(CAP)}


def test_retry_after_equal_to_the_cap_is_the_cap() -> None:
    assert set(_delays(_outcome(0, retry_after=CAP))) == {float(CAP)}


def test_retry_after_shorter_than_the_schedule_gap_does_not_shorten_it() -> None:
    delays = _delays(_outcome(1, retry_after=5))  # gap 100
    assert all(90 <= d <= 110 for d in delays)


def test_a_cap_below_the_schedule_gap_never_shortens_the_gap() -> None:
    """The cap bounds what Retry-After can add; the schedule's own gap still applies."""
    delays = _delays(_outcome(2, retry_after=3600), _dispatcher(cap=50))  # gap 1000
    assert all(900 <= d <= 1100 for d in delays)


def test_retry_after_does_not_revive_a_dead_callback() -> None:
    change = _dispatcher()._next(_outcome(len(SCHEDULE) - 1, retry_after=1), NOW)
    assert change["state"] == "dead"


def test_next_attempt_is_counted_from_the_moment_given() -> None:
    later = NOW + timedelta(hours=1)
    change = _dispatcher()._next(_outcome(0, retry_after=30), later)
    assert change["next_attempt_at"] == later + timedelta(seconds=30)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("", None),
        ("-1", None),
        ("1.2.3", None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),  # the HTTP-date form is not honoured
    ],
)
def test_retry_after_header_parsing(header: str, seconds: float | None) -> None:
    assert _retry_after(header) == seconds
