"""Callback retries measured at a real receiver, on a schedule whose gaps differ (0, 2, 5 s) and a
Retry-After cap (3 s) below what the receiver asks for: the flat ``0,1,1,1`` schedule of the other
callback tests cannot tell an off-by-one from the right gap, nor an ignored cap from a kept one.

Each measured gap is at least what was scheduled (less 10% jitter) and at most that plus the
delivery loop's poll and bookkeeping (``SLACK``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from qcloud_cos import CosS3Client

from tests.conftest import make_client
from tests.support.receiver import Receiver
from tests.support.server import APPID, ServerProcess
from tests.support.templates import transcode_template
from tests.support.workflows import node, workflow_body

SCHEDULE = (0, 2, 5)
CAP = 3
SLACK = 1.5  # poll interval (0.5 s), claim and record, on a loaded 2-core machine


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


def test_failed_attempts_wait_each_gap_of_the_schedule_in_turn(retry_server: ServerProcess, receiver: Receiver) -> None:
    receiver.status = 500
    _start_run(make_client(retry_server.port), f"retrygaps-{APPID}", receiver)
    got = receiver.wait_for(len(SCHEDULE), timeout=20)
    gaps = [round(b.at - a.at, 2) for a, b in zip(got, got[1:], strict=False)]
    for gap, scheduled in zip(gaps, SCHEDULE[1:], strict=True):
        assert 0.9 * scheduled <= gap <= 1.1 * scheduled + SLACK, (gaps, SCHEDULE)


def test_retry_after_beyond_the_cap_waits_the_cap(retry_server: ServerProcess, receiver: Receiver) -> None:
    receiver.status = lambda n: 503 if n == 1 else 200
    receiver.extra_headers = {"Retry-After": "60"}  # far above the 3 s cap and the 2 s gap
    _start_run(make_client(retry_server.port), f"retrycap-{APPID}", receiver)
    first, second = receiver.wait_for(2, timeout=15)
    assert CAP - 0.05 <= second.at - first.at <= CAP + SLACK, second.at - first.at
