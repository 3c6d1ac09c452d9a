"""Workflow callbacks against a real receiver: exact bodies, durable ordered at-least-once delivery,
retries on schedule, the delivery log, signing, the address guard."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from qcloud_cos import CosS3Client
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.conftest import CALLBACK_SECRET, make_client
from tests.support.go_decoder import decode_json, decode_xml
from tests.support.receiver import Received, Receiver
from tests.support.server import ServerProcess
from tests.support.signing import bare_api
from tests.support.templates import transcode_template
from tests.support.workflows import node, runs_of, wait_run, workflow_body

_numbers = iter(range(1, 10_000))


@pytest.fixture
def cb(callback_server: ServerProcess) -> CosS3Client:
    return make_client(callback_server.port)


@pytest.fixture
def bucket(cb: CosS3Client) -> str:
    name = f"cb{next(_numbers)}-1250000000"
    cb.create_bucket(Bucket=name)
    return name


@pytest.fixture
def receiver() -> Any:
    r = Receiver().start()
    yield r
    r.stop()


def _workflow(cb: CosS3Client, bucket: str, notify: dict[str, str] | None, smart: bool = True) -> str:
    transcode = transcode_template(cb, bucket)
    nodes = {"Transcode_1": node("Transcode", "t/${InputName}.${Ext}", TemplateId=transcode)}
    deps = {"Start": "Transcode_1", "Transcode_1": "End"}
    if smart:
        nodes["SmartCover_1"] = node("SmartCover", "c/${InputName}.${Ext}", SmartCover={"Format": "jpg", "Count": "1"})
        deps = {"Start": "Transcode_1", "Transcode_1": "SmartCover_1", "SmartCover_1": "End"}
    body = workflow_body("cb", deps, nodes, state="Active", notify=notify)
    return cb.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]


def _notify(receiver: Receiver, fmt: str = "XML", events: str = "WorkflowStart,TaskFinish,WorkflowFinish") -> dict:
    return {"Url": receiver.url, "Type": "Url", "Event": events, "ResultFormat": fmt, "State": "On"}


def _event(received: Received) -> str:
    body = received.body
    if body.startswith(b"{"):
        return json.loads(body)["EventName"]
    return ET.fromstring(body).findtext("EventName") or ""


def _api(server: ServerProcess, client: CosS3Client, method: str, path: str, **params: str) -> httpx.Response:
    return bare_api(client, server, method, path, **params)


@pytest.mark.both_databases
def test_xml_bodies_in_order_and_go_decodable(cb: CosS3Client, bucket: str, receiver: Receiver) -> None:
    workflow_id = _workflow(cb, bucket, _notify(receiver, "XML"))
    cb.put_object(
        Bucket=bucket, Key="car.mp4", Body=b"video", ContentType="video/mp4", Metadata={"x-cos-meta-uid": "42"}
    )
    got = receiver.wait_for(4)
    assert [_event(r) for r in got] == ["WorkflowStart", "TaskFinish", "TaskFinish", "WorkflowFinish"]
    start, finish = decode_xml(got[0].body), decode_xml(got[3].body)
    execution = finish["WorkflowExecution"]
    assert start["WorkflowExecution"]["State"] == "Running" and "Tasks" not in start["WorkflowExecution"]
    assert execution["State"] == "Success" and execution["WorkflowId"] == workflow_id
    assert execution["Object"] == "car.mp4" and execution["BucketId"] == bucket
    assert {"Key": "Content-Type", "Value": "video/mp4"} in execution["CosHeaders"]
    assert {"Key": "x-cos-meta-uid", "Value": "42"} in execution["CosHeaders"]
    assert len(execution["CreateTime"]) == len("2022-08-09 14:54:17+0800") and execution["CreateTime"][10] == " "
    transcode, cover = execution["Tasks"]
    assert (transcode["Type"], transcode["Name"], transcode["State"]) == ("Transcode", "Transcode_1", "Success")
    assert transcode["ResultInfo"]["ObjectCount"] == 1
    info = transcode["ResultInfo"]["ObjectInfo"][0]
    assert info["ObjectName"] == "t/car.mp4" and info["ObjectUrl"].endswith(f"/{bucket}/t/car.mp4")
    assert cover["ResultInfo"]["ObjectInfo"][0]["ObjectName"] == "c/car.jpg"
    # WorkflowFinish is sent only once the outputs it names are readable.
    assert cb.get_object(Bucket=bucket, Key="t/car.mp4")["Body"].get_raw_stream().read() == b"Transcode(video)"
    task_finish = ET.fromstring(got[1].body)
    assert task_finish.findtext("JobsDetail/Tag") == "Transcode"
    assert task_finish.findtext("JobsDetail/Workflow/RunId") == execution["RunId"]
    assert task_finish.findtext("JobsDetail/Operation/MediaResult/OutputFile/ObjectName") == "t/car.mp4"
    assert got[0].headers["Content-Type"] == "application/xml"


def test_json_bodies(cb: CosS3Client, bucket: str, receiver: Receiver) -> None:
    _workflow(cb, bucket, _notify(receiver, "JSON", "WorkflowFinish"))
    cb.put_object(Bucket=bucket, Key="car.mp4", Body=b"video", ContentType="video/mp4")
    (got,) = receiver.wait_for(1)
    payload = json.loads(got.body)
    assert "Response" not in payload and payload["EventName"] == "WorkflowFinish"
    decode_json(got.body)  # strict: counts are numbers, lists are arrays
    tasks = payload["WorkflowExecution"]["Tasks"]
    assert isinstance(tasks, list) and isinstance(payload["WorkflowExecution"]["CosHeaders"], list)
    cover = next(t for t in tasks if t["Type"] == "SmartCover")
    assert cover["SmartCover"] == {"format": "jpg", "count": "1"}
    assert cover["ResultInfo"]["ObjectCount"] == 1 and isinstance(cover["ResultInfo"]["ObjectInfo"], list)
    assert got.headers["Content-Type"] == "application/json"


def test_event_filter_and_failed_run(
    cb: CosS3Client, bucket: str, receiver: Receiver, callback_server: ServerProcess
) -> None:
    task_only = _workflow(cb, bucket, _notify(receiver, "JSON", "TaskFinish"), smart=False)
    cb.put_object(Bucket=bucket, Key="bad.mp4", Body=b"fail:Transcode")
    (got,) = receiver.wait_for(1)
    detail = json.loads(got.body)["JobsDetail"]
    assert detail["State"] == "Failed" and detail["Code"] == "TestFailure"
    receiver.clear()
    finish_only = _workflow(cb, bucket, _notify(receiver, "JSON", "WorkflowFinish"), smart=False)
    cb.put_object(Bucket=bucket, Key="bad2.mp4", Body=b"fail:Transcode")
    bodies = [json.loads(r.body) for r in receiver.wait_for(2)]
    finish = next(b for b in bodies if b["EventName"] == "WorkflowFinish")
    task = finish["WorkflowExecution"]["Tasks"][0]
    assert finish["WorkflowExecution"]["State"] == "Failed" and task["Code"] == "TestFailure" and task["Message"]
    # and nothing outside each filter was queued (events are filtered before they are written)
    for workflow_id, wanted in ((task_only, ["TaskFinish"]), (finish_only, ["WorkflowFinish"])):
        runs = runs_of(cb, bucket, workflow_id)
        assert runs, workflow_id
        for run in runs:
            wait_run(cb, bucket, run["RunId"])
            listed = _api(callback_server, cb, "GET", "/api/callbacks", run_id=run["RunId"]).json()["callbacks"]
            assert [c["event"] for c in listed] == wanted, (workflow_id, listed)


def test_queue_notify_config_is_the_fallback(cb: CosS3Client, bucket: str, receiver: Receiver) -> None:
    queue = cb.ci_get_media_queue(Bucket=bucket)["QueueList"][0]
    cb.ci_update_media_queue(
        Bucket=bucket,
        QueueId=queue["QueueId"],
        Request={
            "Name": queue["Name"],
            "QueueID": queue["QueueId"],
            "State": "Active",
            "NotifyConfig": _notify(receiver, "XML", "WorkflowFinish"),
        },
    )
    _workflow(cb, bucket, None, smart=False)
    cb.put_object(Bucket=bucket, Key="q.mp4", Body=b"q")
    (got,) = receiver.wait_for(1)
    assert decode_xml(got.body)["WorkflowExecution"]["State"] == "Success"


def test_signed_with_stable_webhook_id_and_verifiable(cb: CosS3Client, bucket: str, receiver: Receiver) -> None:
    receiver.status = lambda n: 500 if n == 1 else 200
    _workflow(cb, bucket, _notify(receiver, "JSON", "WorkflowStart"), smart=False)
    cb.put_object(Bucket=bucket, Key="s.mp4", Body=b"s")
    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    verified = Webhook(CALLBACK_SECRET).verify(second.body, second.headers)
    assert verified["EventName"] == "WorkflowStart"
    with pytest.raises(WebhookVerificationError):
        Webhook(CALLBACK_SECRET).verify(second.body + b" ", second.headers)


def test_down_then_up_is_retried_and_logged(
    cb: CosS3Client, bucket: str, receiver: Receiver, callback_server: ServerProcess
) -> None:
    receiver.status = lambda n: 503 if n <= 2 else 200
    workflow_id = _workflow(cb, bucket, _notify(receiver, "XML", "WorkflowStart"), smart=False)
    cb.put_object(Bucket=bucket, Key="r.mp4", Body=b"r")
    got = receiver.wait_for(3, timeout=15)
    assert len({r.body for r in got}) == 1
    run_id = runs_of(cb, bucket, workflow_id)[0]["RunId"]
    listed = _api(callback_server, cb, "GET", "/api/callbacks", run_id=run_id).json()["callbacks"]
    assert [(c["event"], c["state"], c["attempts"]) for c in listed] == [("WorkflowStart", "delivered", 3)]
    detail = _api(callback_server, cb, "GET", f"/api/callbacks/{listed[0]['id']}").json()
    assert [a["status"] for a in detail["attempts"]] == [503, 503, 200]
    assert all(a["latency_ms"] >= 0 and a["response_body"] == "ok" for a in detail["attempts"])


def test_last_attempt_makes_it_dead_then_redeliver(
    cb: CosS3Client, bucket: str, receiver: Receiver, callback_server: ServerProcess
) -> None:
    receiver.status = 500
    workflow_id = _workflow(cb, bucket, _notify(receiver, "XML", "WorkflowStart"), smart=False)
    cb.put_object(Bucket=bucket, Key="d.mp4", Body=b"d")
    receiver.wait_for(4, timeout=15)  # the test schedule: 4 attempts
    run_id = runs_of(cb, bucket, workflow_id)[0]["RunId"]
    wait_dead = _wait_state(callback_server, cb, run_id, "dead")
    assert wait_dead["attempts"] == 4 and "HTTP 500" in wait_dead["last_error"]
    receiver.status = 200
    resp = _api(callback_server, cb, "POST", f"/api/callbacks/{wait_dead['id']}/redeliver")
    assert resp.json() == {"redelivered": 1}
    assert _wait_state(callback_server, cb, run_id, "delivered")["attempts"] == 1
    assert len(receiver.wait_for(5)) == 5


def _wait_state(server: ServerProcess, cb: CosS3Client, run_id: str, state: str) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        listed = _api(server, cb, "GET", "/api/callbacks", run_id=run_id).json()["callbacks"]
        if listed and listed[0]["state"] == state:
            return listed[0]
        time.sleep(0.1)
    raise AssertionError(f"callback of {run_id} never became {state}: {listed}")


def test_410_stops_retrying(cb: CosS3Client, bucket: str, receiver: Receiver, callback_server: ServerProcess) -> None:
    receiver.status = 410
    workflow_id = _workflow(cb, bucket, _notify(receiver, "XML", "WorkflowStart"), smart=False)
    cb.put_object(Bucket=bucket, Key="g.mp4", Body=b"g")
    run_id = runs_of(cb, bucket, workflow_id)[0]["RunId"]
    assert _wait_state(callback_server, cb, run_id, "dead")["attempts"] == 1
    assert len(receiver.received) == 1


def test_slow_receiver_times_out_and_is_retried(
    cb: CosS3Client, bucket: str, receiver: Receiver, callback_server: ServerProcess
) -> None:
    receiver.delay = 1.5  # the test server's callback timeout is 1 s
    workflow_id = _workflow(cb, bucket, _notify(receiver, "XML", "WorkflowStart"), smart=False)
    cb.put_object(Bucket=bucket, Key="slow.mp4", Body=b"x")
    receiver.wait_for(2, timeout=15)
    receiver.delay = 0
    run_id = runs_of(cb, bucket, workflow_id)[0]["RunId"]
    callback = _wait_state(callback_server, cb, run_id, "delivered")
    detail = _api(callback_server, cb, "GET", f"/api/callbacks/{callback['id']}").json()
    assert "Timeout" in detail["attempts"][0]["error"] and detail["attempts"][0]["status"] is None


def test_metadata_address_is_never_called(cb: CosS3Client, bucket: str, callback_server: ServerProcess) -> None:
    notify = {"Url": "http://169.254.169.254/latest/meta-data", "Type": "Url", "Event": "WorkflowStart"}
    workflow_id = _workflow(cb, bucket, notify, smart=False)
    cb.put_object(Bucket=bucket, Key="m.mp4", Body=b"m")
    run_id = runs_of(cb, bucket, workflow_id)[0]["RunId"]
    dead = _wait_state(callback_server, cb, run_id, "dead")
    assert dead["attempts"] == 1 and "refused" in dead["last_error"] and "link-local" in dead["last_error"]


def test_invalid_callback_urls_are_rejected_at_creation(cb: CosS3Client, bucket: str) -> None:
    from qcloud_cos.cos_exception import CosServiceError

    for url in ("ftp://example.test/x", "not a url", "file:///etc/passwd"):
        with pytest.raises(CosServiceError) as err:
            _workflow(cb, bucket, {"Url": url, "Type": "Url", "Event": "WorkflowStart"}, smart=False)
        assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidArgument")


@pytest.mark.both_databases
def test_many_runs_every_callback_in_order(cb: CosS3Client, bucket: str, receiver: Receiver) -> None:
    workflow_id = _workflow(cb, bucket, _notify(receiver, "JSON"), smart=False)
    runs = 200
    for n in range(runs):
        cb.put_object(Bucket=bucket, Key=f"m/{n}.mp4", Body=b"x")
    got = receiver.wait_for(3 * runs, timeout=120)
    by_run: dict[str, list[str]] = {}
    for r in got:
        payload = json.loads(r.body)
        run_id = (
            payload["WorkflowExecution"]["RunId"]
            if "WorkflowExecution" in payload
            else payload["JobsDetail"]["Workflow"]["RunId"]
        )
        by_run.setdefault(run_id, []).append(payload["EventName"])
    assert len(by_run) == runs
    assert all(events == ["WorkflowStart", "TaskFinish", "WorkflowFinish"] for events in by_run.values())
    assert len(runs_of(cb, bucket, workflow_id)) == runs
    for run_id in list(by_run)[:3]:
        assert wait_run(cb, bucket, run_id)["State"] == "Success"


def test_kill_9_with_callbacks_in_flight_delivers_at_once_after_restart(tmp_path: Any) -> None:
    # The receiver holds every first attempt open, so each run's head callback is leased when the
    # server dies. The lease (110 s with the default timeouts) outlasts the 30 s wait below:
    # only releasing a dead predecessor's leases at start gets all 15 through in time.
    receiver = Receiver(status=503, delay=120).start()
    env = {"COSFLOW_CALLBACK_RETRY_SCHEDULE": "0,1,1,1,1,1,1,1,1,1"}
    server = ServerProcess(tmp_path / "data", env=env, module="tests.support.testserver").start()
    try:
        client = make_client(server.port)
        client.create_bucket(Bucket="crashcb-1250000000")
        workflow_id = _workflow(client, "crashcb-1250000000", _notify(receiver, "JSON"), smart=False)
        for n in range(5):
            client.put_object(Bucket="crashcb-1250000000", Key=f"k/{n}.mp4", Body=b"x")
        run_ids = [r["RunId"] for r in runs_of(client, "crashcb-1250000000", workflow_id)]
        for run_id in run_ids:
            wait_run(client, "crashcb-1250000000", run_id)
        receiver.wait_for(5)  # first attempts made and hanging
        server.kill()
        receiver.clear()
        receiver.status, receiver.delay = 200, 0.0
        server = ServerProcess(tmp_path / "data", env=env, module="tests.support.testserver", port=server.port).start()
        got = receiver.wait_for(15, timeout=30)
    finally:
        server.stop()
        receiver.stop()
    events: dict[str, list[str]] = {}
    for r in got:
        payload = json.loads(r.body)
        run = payload.get("WorkflowExecution", {}).get("RunId") or payload["JobsDetail"]["Workflow"]["RunId"]
        events.setdefault(run, []).append(payload["EventName"])
    assert sorted(events) == sorted(run_ids)
    assert all(e == ["WorkflowStart", "TaskFinish", "WorkflowFinish"] for e in events.values())


def test_hanging_destinations_delay_no_one_else(tmp_path: Any) -> None:
    """Ten receivers accept connections and never answer, with a 30 s attempt timeout; a healthy
    receiver still gets every one of its callbacks, in order per run, while each hanging attempt is
    still waiting for its answer: before any hanging connection is given up. (Before, an attempt
    batch waited for its slowest member, so nothing reached the healthy receiver until the hanging
    attempts timed out.) One hanging host is flooded with more runs than the whole in-flight bound:
    the per-destination bound keeps it to its share (it never holds more than 2 connections).
    How soon each callback arrives is measured in bench/callbacks_bench.py, not asserted here."""
    import time

    from tests.support.receiver import HangingReceiver

    env = {
        "COSFLOW_WORKERS": "4",
        "COSFLOW_CALLBACK_TIMEOUT": "30",
        "COSFLOW_CALLBACK_CONCURRENCY": "32",
        "COSFLOW_CALLBACK_DESTINATION_CONCURRENCY": "2",
        "COSFLOW_CALLBACK_SECRET": CALLBACK_SECRET,
    }
    hanging = [HangingReceiver().start() for _ in range(10)]
    healthy = Receiver().start()
    server = ServerProcess(tmp_path / "data", env=env, module="tests.support.testserver").start()
    try:
        client = make_client(server.port)
        buckets = [f"hang{n}-1250000000" for n in range(10)]
        for name, receiver in zip(buckets, hanging, strict=True):
            client.create_bucket(Bucket=name)
            _workflow(client, name, _notify(receiver, "JSON"), smart=False)
        client.create_bucket(Bucket="healthy-1250000000")
        workflow_id = _workflow(client, "healthy-1250000000", _notify(healthy, "JSON"), smart=False)
        for n, name in enumerate(buckets):
            for k in range(40 if n == 0 else 2):  # the first hanging host gets more than the bound
                client.put_object(Bucket=name, Key=f"k/{k}.mp4", Body=b"x")
        deadline = time.monotonic() + 60  # let every hanging host take its first attempts
        while not all(h.connections for h in hanging) and time.monotonic() < deadline:
            time.sleep(0.05)
        held_from = time.time()  # every hanging host holds an attempt open from here
        for k in range(10):
            client.put_object(Bucket="healthy-1250000000", Key=f"k/{k}.mp4", Body=b"x")
            time.sleep(0.1)
        deadline = time.monotonic() + 45  # past the 30 s timeout: a blocked delivery shows as an order
        while len(healthy.received) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        got = list(healthy.received)
        run_ids = [r["RunId"] for r in runs_of(client, "healthy-1250000000", workflow_id)]
        connections = [h.connections for h in hanging]
        dropped = sorted(t for h in hanging for t in h.dropped)  # before the server stops
    finally:
        server.stop()
        healthy.stop()
        for receiver in hanging:
            receiver.stop()
    assert all(connections), connections  # every hanging host was holding an attempt...
    arrived = max((r.at for r in got), default=held_from)
    given_up = [round(t - held_from, 1) for t in dropped if t <= arrived]
    assert not given_up, f"hanging connections given up {given_up} s in, before {len(got)} healthy callbacks arrived"
    assert len(got) == 30, f"{len(got)} of 30 callbacks arrived"
    events: dict[str, list[str]] = {}
    for r in got:
        payload = json.loads(r.body)
        run = payload.get("WorkflowExecution", {}).get("RunId") or payload["JobsDetail"]["Workflow"]["RunId"]
        events.setdefault(run, []).append(payload["EventName"])
    assert sorted(events) == sorted(run_ids) and len(run_ids) == 10
    assert all(e == ["WorkflowStart", "TaskFinish", "WorkflowFinish"] for e in events.values()), events
    assert connections[0] <= 2, connections  # the flood kept to its share


def test_retry_after_is_honoured(cb: CosS3Client, bucket: str, receiver: Receiver) -> None:
    receiver.status = lambda n: 503 if n == 1 else 200
    receiver.extra_headers = {"Retry-After": "2"}  # longer than the 1 s the test schedule would wait
    _workflow(cb, bucket, _notify(receiver, "XML", "WorkflowStart"), smart=False)
    cb.put_object(Bucket=bucket, Key="ra.mp4", Body=b"x")
    first, second = receiver.wait_for(2, timeout=15)
    assert second.at - first.at >= 1.9


def _cli(server: ServerProcess, *args: str) -> str:
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "cosflow", "callbacks", *args, "--data-dir", str(server.data_dir)],
        env={**os.environ, **server.cli_env()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr  # show: the body on stdout, the attempts on stderr


def test_cli_lists_shows_and_redelivers(
    cb: CosS3Client, bucket: str, receiver: Receiver, callback_server: ServerProcess
) -> None:
    receiver.status = 500
    workflow_id = _workflow(cb, bucket, _notify(receiver, "XML", "WorkflowStart"), smart=False)
    cb.put_object(Bucket=bucket, Key="cli.mp4", Body=b"x")
    run_id = runs_of(cb, bucket, workflow_id)[0]["RunId"]
    dead = _wait_state(callback_server, cb, run_id, "dead")
    listed = _cli(callback_server, "list", "--run", run_id)
    assert dead["id"] in listed and "WorkflowStart" in listed and "dead" in listed
    shown = _cli(callback_server, "show", dead["id"])
    assert shown.count("status=500") == 4 and "<EventName>WorkflowStart</EventName>" in shown
    receiver.status = 200
    assert "redelivering 1 callback" in _cli(callback_server, "redeliver", dead["id"])
    assert _wait_state(callback_server, cb, run_id, "delivered")["attempts"] == 1


def test_listen_prints_verifies_and_answers_the_chosen_status(tmp_path: Any) -> None:
    import socket
    import subprocess
    import sys
    import time

    from cosflow.domain.callbacks import webhook_signature

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    listener = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cosflow",
            "callbacks",
            "listen",
            "--port",
            str(port),
            "--secret",
            CALLBACK_SECRET,
            "--status",
            "500",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**__import__("os").environ, "COLUMNS": "200"},
    )
    try:
        body = json.dumps(
            {
                "EventName": "WorkflowFinish",
                "WorkflowExecution": {
                    "RunId": "i1",
                    "Object": "car.mp4",
                    "State": "Success",
                    "Tasks": [
                        {
                            "Name": "Transcode_1",
                            "Type": "Transcode",
                            "State": "Success",
                            "ResultInfo": {
                                "ObjectCount": 1,
                                "ObjectInfo": [{"ObjectName": "out/car.mp4", "ObjectUrl": "u"}],
                            },
                        }
                    ],
                },
            }
        ).encode()
        stamp = int(time.time())
        headers = {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(stamp),
            "webhook-signature": webhook_signature(CALLBACK_SECRET, "msg_1", stamp, body),
        }
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.post(f"http://127.0.0.1:{port}/", content=body, headers=headers)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "listener did not start"
                time.sleep(0.1)
        forged = httpx.post(f"http://127.0.0.1:{port}/", content=body + b" ", headers=headers)
        assert response.status_code == 500 and forged.status_code == 500
    finally:
        listener.terminate()
        output = listener.communicate(timeout=10)[0]
    assert "signature=ok" in output and "BAD SIGNATURE" in output
    assert "WorkflowFinish run=i1 object=car.mp4 state=Success" in output and "out/car.mp4" in output


def test_callbacks_api_answers_only_under_its_own_path(cb: CosS3Client, callback_server: ServerProcess) -> None:
    """/api/<anything else> is not the callbacks API (it used to act as if it were), and an
    unknown callback id is a clear 400."""
    for method, path in (("GET", "/api/x"), ("POST", "/api/x/redeliver")):
        resp = _api(callback_server, cb, method, path, since="2020-01-01T00:00:00+0800")
        assert resp.status_code == 405 and "<Code>MethodNotAllowed</Code>" in resp.text, resp.text
    unknown = _api(callback_server, cb, "POST", "/api/callbacks/cnope/redeliver")
    assert unknown.status_code == 400 and "cnope does not exist" in unknown.text


@pytest.mark.parametrize(
    "args, said",
    [
        (("list", "--since", "junk"), "--since: not a time"),
        (("list", "--state", "bogus"), "state must be pending, delivered or dead"),
        (("show", "cnope"), "callback cnope does not exist"),
        (("redeliver", "--failed-since", "junk"), "--failed-since: not a time"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(callback_server: ServerProcess, args: tuple[str, ...], said: str) -> None:
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "cosflow", "callbacks", *args, "--data-dir", str(callback_server.data_dir)],
        env={**os.environ, **callback_server.cli_env()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and said in result.stderr and not result.stdout, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
