"""Callback retries through a real server and receiver, on a schedule whose gaps differ (0, 2, 5 s)
and a Retry-After cap (3 s) below what the receiver asks for: the flat ``0,1,1,1`` schedule of the
other callback tests cannot tell an off-by-one from the right gap, nor an ignored cap from a kept one.

No assertion bounds how fast anything happens (speed is measured in bench/). The delay chosen after
each failed attempt is read from the delivery log and bracketed by facts the test observes:

- the retry was scheduled after the attempt ended, so ``next_attempt_at - end of attempt`` is at
  least the delay: it must reach the scheduled gap (less 10% jitter);
- the retry was scheduled before the test read it back, so ``next_attempt_at - moment of reading``
  is at most the delay: it must not pass the scheduled gap (plus 10% jitter);
- the next attempt did not start before ``next_attempt_at``, and the receiver saw the two attempts
  at least the gap apart.

The delivery log is polled every 20 ms, so a delay too long (an off-by-one, an ignored cap) shows
unless a read lags the record by most of the difference; a late read can only miss a fault, never
fail a right delay.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from qcloud_cos import CosS3Client

from tests.conftest import make_client
from tests.support.receiver import Receiver
from tests.support.server import APPID, ServerProcess
from tests.support.signing import bare_api
from tests.support.templates import transcode_template
from tests.support.workflows import node, workflow_body

SCHEDULE = (0, 2, 5)
CAP = 3
EPS = 0.01  # seconds: rounding of stored times (microseconds) and of latency_ms


@pytest.fixture(scope="module")
def retry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("retry-timing")
    env = {
        "COSFLOW_CALLBACK_RETRY_SCHEDULE": ",".join(map(str, SCHEDULE)),
        "COSFLOW_CALLBACK_RETRY_AFTER_CAP": str(CAP),
        "COSFLOW_CALLBACK_TIMEOUT": "1",
        "COSFLOW_CALLBACK_CONNECT_TIMEOUT": "1",
    }
    proc = ServerProcess(data / "data", env=env, module="tests.support.testserver").start()
    yield proc
    proc.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def _start_run(client: CosS3Client, bucket: str, receiver: Receiver) -> None:
    """A one-task workflow whose WorkflowStart goes to ``receiver``, then the upload that runs it."""
    client.create_bucket(Bucket=bucket)
    notify = {"Url": receiver.url, "Type": "Url", "Event": "WorkflowStart", "ResultFormat": "XML", "State": "On"}
    nodes = {"Transcode_1": node("Transcode", "t/${InputName}.${Ext}", TemplateId=transcode_template(client, bucket))}
    body = workflow_body("retry", {"Start": "Transcode_1", "Transcode_1": "End"}, nodes, state="Active", notify=notify)
    client.ci_create_workflow(Bucket=bucket, Body=body)
    client.put_object(Bucket=bucket, Key="v.mp4", Body=b"x")


def _epoch(iso: str) -> float:
    moment = datetime.fromisoformat(iso)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


@dataclass(frozen=True)
class Retry:
    """After attempt ``n`` failed: when the next one was due, and a moment by which that was stored."""

    due: float
    read_by: float


@dataclass(frozen=True)
class Attempted:
    started: float
    ended: float  # latency_ms is truncated: never later than the real end


def _watch(
    client: CosS3Client, server: ServerProcess, url: str, final: int, timeout: float = 30
) -> tuple[dict[int, Retry], list[Attempted]]:
    """Poll the delivery log for the one callback to ``url`` until it has made ``final`` attempts:
    the stored retry after each attempt count as first seen, and every attempt's start and end."""
    retries: dict[int, Retry] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = bare_api(client, server, "GET", "/api/callbacks", limit="1000").json()["callbacks"]
        read_by = time.time()  # the answer is in: whatever it shows was stored before now
        mine = [c for c in listed if c["url"] == url]
        if mine:
            (callback,) = mine
            if callback["state"] == "pending" and callback["attempts"] not in retries:
                retries[callback["attempts"]] = Retry(_epoch(callback["next_attempt_at"]), read_by)
            if callback["attempts"] >= final:
                shown = bare_api(client, server, "GET", f"/api/callbacks/{callback['id']}").json()
                attempts = [
                    Attempted(_epoch(a["attempted_at"]), _epoch(a["attempted_at"]) + a["latency_ms"] / 1000)
                    for a in shown["attempts"]
                ]
                return retries, attempts
        time.sleep(0.02)
    raise AssertionError(f"no {final} attempts to {url} in {timeout} s; retries seen: {retries}")


def _check_retry(n: int, retries: dict[int, Retry], attempts: list[Attempted], low: float, high: float) -> None:
    """The delay after attempt ``n`` (1-based) was within ``[low, high]`` by what was observed."""
    assert n in retries, f"the retry after attempt {n} was never seen pending: {retries}"
    retry, attempt, following = retries[n], attempts[n - 1], attempts[n]
    assert retry.due - attempt.ended >= low - EPS, f"after attempt {n}: due {retry.due - attempt.ended:.3f} s after it"
    assert retry.due - retry.read_by <= high + EPS, f"after attempt {n}: still {retry.due - retry.read_by:.3f} s off"
    assert following.started >= retry.due - EPS, f"attempt {n + 1} began before it was due"


def test_failed_attempts_wait_each_gap_of_the_schedule_in_turn(retry_server: ServerProcess, receiver: Receiver) -> None:
    receiver.status = 500
    client = make_client(retry_server.port)
    _start_run(client, f"retrygaps-{APPID}", receiver)
    retries, attempts = _watch(client, retry_server, receiver.url, final=len(SCHEDULE))
    assert len(attempts) == len(SCHEDULE) == len(receiver.received)
    for n, gap in enumerate(SCHEDULE[1:], start=1):
        _check_retry(n, retries, attempts, 0.9 * gap, 1.1 * gap)
    gaps = [b.at - a.at for a, b in zip(receiver.received, receiver.received[1:], strict=False)]
    assert all(g >= 0.9 * s for g, s in zip(gaps, SCHEDULE[1:], strict=True)), (gaps, SCHEDULE)


def test_retry_after_beyond_the_cap_waits_the_cap(retry_server: ServerProcess, receiver: Receiver) -> None:
    """Retry-After 60 against a cap of 3 and a gap of 2 (at most 2.2 with jitter): exactly the cap."""
    receiver.status = lambda n: 503 if n == 1 else 200
    receiver.extra_headers = {"Retry-After": "60"}
    client = make_client(retry_server.port)
    _start_run(client, f"retrycap-{APPID}", receiver)
    retries, attempts = _watch(client, retry_server, receiver.url, final=2)
    _check_retry(1, retries, attempts, CAP, CAP)
    first, second = receiver.received
    assert second.at - first.at >= CAP - EPS
