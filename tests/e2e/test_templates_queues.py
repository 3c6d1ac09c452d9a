"""Templates (spec §10.1) and media queues (spec §8): CRUD through the official SDK, then queue
pause and MaxConcurrent semantics end to end on the engine server."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from tests.support.server import ServerProcess
from tests.support.templates import snapshot_template, transcode_template
from tests.support.workflows import FINAL, as_list, node, runs_of, wait_run, workflow_body

TEMPLATE_ID = re.compile(r"^t[0-9a-f]{33}$")
QUEUE_ID = re.compile(r"^p[0-9a-f]{32}$")
API_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0800$")

TRANSCODE_BODY = {
    "Tag": "Transcode",
    "Name": "mp4-640",
    "Container": {"Format": "mp4"},
    "Video": {"Codec": "H.264", "Width": "640", "Fps": "25"},
    "Audio": {"Codec": "aac", "Samplerate": "44100"},
    "TimeInterval": {"Start": "0", "Duration": "10"},
}


def error_of(call: Callable[..., Any], **kwargs: Any) -> CosServiceError:
    with pytest.raises(CosServiceError) as caught:
        call(**kwargs)
    return caught.value


def poll(what: Callable[[], Any], until: Callable[[Any], bool], timeout: float = 10.0, interval: float = 0.03) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s; last value: {value}")
        time.sleep(interval)


# --- templates ------------------------------------------------------------------------------------


def test_transcode_template_crud(ci: CosS3Client, media_bucket: str) -> None:
    response = ci.ci_create_template(Bucket=media_bucket, Template=TRANSCODE_BODY)
    assert response["RequestId"]
    template = response["Template"]
    template_id = template["TemplateId"]
    assert TEMPLATE_ID.match(template_id), template_id
    assert template["Name"] == "mp4-640" and template["Tag"] == "Transcode"
    assert template["Category"] == "Custom" and template["BucketId"] == media_bucket
    assert API_TIME.match(template["CreateTime"]) and API_TIME.match(template["UpdateTime"])
    assert template["TransTpl"]["Container"] == {"Format": "mp4"}
    assert template["TransTpl"]["Video"] == {"Codec": "H.264", "Width": "640", "Fps": "25"}
    assert template["TransTpl"]["Audio"] == {"Codec": "aac", "Samplerate": "44100"}
    assert template["TransTpl"]["TimeInterval"] == {"Start": "0", "Duration": "10"}

    listed = ci.ci_get_template(Bucket=media_bucket, Category="Custom", Ids=template_id)
    assert listed["TotalCount"] == "1"
    assert listed["TemplateList"][0] == template

    changed = {**TRANSCODE_BODY, "Name": "mp4-1280", "Video": {"Codec": "H.264", "Width": "1280"}}
    del changed["Audio"]
    updated = ci.ci_update_template(Bucket=media_bucket, TemplateId=template_id, Template=changed)["Template"]
    assert updated["TemplateId"] == template_id and updated["Name"] == "mp4-1280"
    assert updated["CreateTime"] == template["CreateTime"]
    assert updated["TransTpl"]["Video"] == {"Codec": "H.264", "Width": "1280"}
    assert "Audio" not in updated["TransTpl"]  # omitted on update = removed

    again = ci.ci_get_template(Bucket=media_bucket, Ids=template_id)["TemplateList"][0]
    assert again["Name"] == "mp4-1280" and again["TransTpl"] == updated["TransTpl"]

    deleted = ci.ci_delete_template(Bucket=media_bucket, TemplateId=template_id)
    assert deleted["TemplateId"] == template_id
    gone = ci.ci_get_template(Bucket=media_bucket, Ids=template_id)
    assert gone["TotalCount"] == "0" and not as_list(gone.get("TemplateList"))
    err = error_of(ci.ci_delete_template, Bucket=media_bucket, TemplateId=template_id)
    assert err.get_status_code() == 400 and err.get_error_code() == "InvalidArgument"


def test_snapshot_template_crud(ci: CosS3Client, media_bucket: str) -> None:
    body = {"Tag": "Snapshot", "Name": "snap-3", "Snapshot": {"Mode": "Average", "Count": "3", "Width": "320"}}
    template = ci.ci_create_template(Bucket=media_bucket, Template=body)["Template"]
    assert TEMPLATE_ID.match(template["TemplateId"])
    assert template["Tag"] == "Snapshot" and template["Category"] == "Custom"
    assert template["Snapshot"] == {"Mode": "Average", "Count": "3", "Width": "320"}
    assert "TransTpl" not in template

    body["Snapshot"] = {"Mode": "Interval", "Count": "5", "TimeInterval": "2"}
    updated = ci.ci_update_template(Bucket=media_bucket, TemplateId=template["TemplateId"], Template=body)
    assert updated["Template"]["Snapshot"] == {"Mode": "Interval", "Count": "5", "TimeInterval": "2"}

    listed = ci.ci_get_template(Bucket=media_bucket, Ids=template["TemplateId"])["TemplateList"][0]
    assert listed["Snapshot"]["Count"] == "5"
    ci.ci_delete_template(Bucket=media_bucket, TemplateId=template["TemplateId"])
    assert ci.ci_get_template(Bucket=media_bucket)["TotalCount"] == "0"


def test_template_tag_cannot_change(ci: CosS3Client, media_bucket: str) -> None:
    template_id = transcode_template(ci, media_bucket)
    body = {"Tag": "Snapshot", "Name": "now-a-snapshot", "Snapshot": {"Count": "1"}}
    err = error_of(ci.ci_update_template, Bucket=media_bucket, TemplateId=template_id, Template=body)
    assert (err.get_status_code(), err.get_error_code()) == (400, "InvalidArgument") and "Tag" in err.get_error_msg()
    assert ci.ci_get_template(Bucket=media_bucket, Ids=template_id)["TemplateList"][0]["Tag"] == "Transcode"


@pytest.mark.parametrize(
    "body, word",
    [
        ({**TRANSCODE_BODY, "Tag": "Bogus"}, "Tag"),
        ({k: v for k, v in TRANSCODE_BODY.items() if k != "Tag"}, "Tag"),
        ({**TRANSCODE_BODY, "Name": "has spaces!"}, "Name"),
        ({**TRANSCODE_BODY, "Name": "x" * 65}, "Name"),
        ({**TRANSCODE_BODY, "Name": ""}, "Name"),
    ],
    ids=["bad-tag", "no-tag", "bad-name", "long-name", "empty-name"],
)
def test_invalid_templates_are_refused(ci: CosS3Client, media_bucket: str, body: dict[str, Any], word: str) -> None:
    err = error_of(ci.ci_create_template, Bucket=media_bucket, Template=body)
    assert err.get_status_code() == 400 and err.get_error_code() == "InvalidArgument"
    assert word in err.get_error_msg()
    assert ci.ci_get_template(Bucket=media_bucket)["TotalCount"] == "0"


def test_template_listing_by_name_and_category(ci: CosS3Client, media_bucket: str) -> None:
    ids = {transcode_template(ci, media_bucket, name=n) for n in ("hls-a", "hls-b")}
    snap = snapshot_template(ci, media_bucket, name="snap-a")
    hls = ci.ci_get_template(Bucket=media_bucket, Category="Custom", Name="hls")
    assert hls["TotalCount"] == "2" and {t["TemplateId"] for t in hls["TemplateList"]} == ids
    everything = ci.ci_get_template(Bucket=media_bucket)
    assert everything["TotalCount"] == "3"
    assert {t["TemplateId"] for t in everything["TemplateList"]} == ids | {snap}
    paged = ci.ci_get_template(Bucket=media_bucket, PageNumber=2, PageSize=2)
    assert paged["TotalCount"] == "3" and len(as_list(paged.get("TemplateList"))) == 1

    official = ci.ci_get_template(Bucket=media_bucket, Category="Official", PageSize=100)
    listed = as_list(official.get("TemplateList"))
    assert int(official["TotalCount"]) >= len(listed)
    assert all(t["Category"] == "Official" for t in listed), listed
    assert not {t["TemplateId"] for t in listed} & (ids | {snap})
    assert not any(t["Name"] in ("hls-a", "hls-b", "snap-a") for t in listed)


def test_templates_are_per_bucket(ci: CosS3Client, media_bucket: str) -> None:
    template_id = transcode_template(ci, media_bucket)
    other = media_bucket.replace("media", "tplother", 1)
    ci.create_bucket(Bucket=other)
    assert ci.ci_get_template(Bucket=other, Ids=template_id)["TotalCount"] == "0"
    err = error_of(ci.ci_delete_template, Bucket=other, TemplateId=template_id)
    assert (err.get_status_code(), err.get_error_code()) == (400, "InvalidArgument")
    assert ci.ci_get_template(Bucket=media_bucket, Ids=template_id)["TotalCount"] == "1"


# --- queues ---------------------------------------------------------------------------------------


def media_queue(ci: CosS3Client, bucket: str) -> dict[str, Any]:
    response = ci.ci_get_media_queue(Bucket=bucket)
    queues = as_list(response.get("QueueList"))
    assert response["TotalCount"] == "1" and len(queues) == 1, response
    return queues[0]


def set_queue(ci: CosS3Client, bucket: str, queue: dict[str, Any], **fields: str) -> dict[str, Any]:
    request = {"Name": queue["Name"], "QueueID": queue["QueueId"], "State": queue["State"], **fields}
    return updated_queue(ci.ci_update_media_queue(Bucket=bucket, QueueId=queue["QueueId"], Request=request))


def updated_queue(response: dict[str, Any]) -> dict[str, Any]:
    """UpdateMediaQueue answers one ``Queue`` (the SDK wraps it in a list)."""
    queues = as_list(response.get("Queue"))
    assert response["RequestId"] and len(queues) == 1, response
    return queues[0]


def test_default_media_queue(ci: CosS3Client, media_bucket: str) -> None:
    response = ci.ci_get_media_queue(Bucket=media_bucket)
    assert response["RequestId"] and response["PageNumber"] == "1" and response["PageSize"] == "10"
    queue = media_queue(ci, media_bucket)
    assert QUEUE_ID.match(queue["QueueId"]), queue
    assert queue["State"] == "Active" and queue["Category"] == "Transcoding"
    assert queue["Name"]
    assert int(queue["MaxConcurrent"]) >= 1 and int(queue["MaxSize"]) >= int(queue["MaxConcurrent"])
    assert API_TIME.match(queue["CreateTime"]) and API_TIME.match(queue["UpdateTime"])
    assert media_queue(ci, media_bucket) == queue  # stable across calls
    by_id = ci.ci_get_media_queue(Bucket=media_bucket, QueueIds=queue["QueueId"])
    assert as_list(by_id["QueueList"])[0]["QueueId"] == queue["QueueId"]
    unknown = "p" + "0" * 32
    missing = ci.ci_get_media_queue(Bucket=media_bucket, QueueIds=unknown)
    assert missing["TotalCount"] == "0" and as_list(missing.get("NonExistPIDs")) == [unknown]


def test_default_picture_queue(ci: CosS3Client, media_bucket: str) -> None:
    first = ci.ci_get_media_pic_queue(Bucket=media_bucket)
    queues = as_list(first.get("QueueList"))
    assert first["TotalCount"] == "1" and len(queues) == 1, first
    queue = queues[0]
    assert QUEUE_ID.match(queue["QueueId"]) and queue["State"] == "Active"
    assert int(queue["MaxConcurrent"]) >= 1
    assert as_list(ci.ci_get_media_pic_queue(Bucket=media_bucket)["QueueList"]) == [queue]
    assert queue["QueueId"] != media_queue(ci, media_bucket)["QueueId"]
    # a picture queue is not a media queue
    err = error_of(
        ci.ci_update_media_queue,
        Bucket=media_bucket,
        QueueId=queue["QueueId"],
        Request={"Name": "x", "QueueID": queue["QueueId"], "State": "Paused"},
    )
    assert (err.get_status_code(), err.get_error_code()) == (400, "InvalidArgument")
    updated = updated_queue(
        ci.ci_update_media_pic_queue(
            Bucket=media_bucket,
            QueueId=queue["QueueId"],
            Request={"Name": "pics", "QueueID": queue["QueueId"], "State": "Paused"},
        )
    )
    assert updated["QueueId"] == queue["QueueId"] and updated["Name"] == "pics" and updated["State"] == "Paused"


def test_queues_are_per_bucket(ci: CosS3Client, media_bucket: str) -> None:
    mine = media_queue(ci, media_bucket)
    other = media_bucket.replace("media", "qother", 1)
    ci.create_bucket(Bucket=other)
    theirs = media_queue(ci, other)
    assert theirs["QueueId"] != mine["QueueId"]
    err = error_of(
        ci.ci_update_media_queue,
        Bucket=other,
        QueueId=mine["QueueId"],
        Request={"Name": "x", "QueueID": mine["QueueId"], "State": "Paused"},
    )
    assert (err.get_status_code(), err.get_error_code()) == (400, "InvalidArgument")
    assert media_queue(ci, media_bucket)["State"] == "Active"


def test_update_queue_echoes(ci: CosS3Client, media_bucket: str) -> None:
    queue = media_queue(ci, media_bucket)
    notify = {
        "Url": "http://127.0.0.1:9/queue-callback",
        "Type": "Url",
        "Event": "TaskFinish,WorkflowFinish",
        "State": "On",
        "ResultFormat": "JSON",
    }
    response = ci.ci_update_media_queue(
        Bucket=media_bucket,
        QueueId=queue["QueueId"],
        Request={"Name": "renamed-queue", "QueueID": queue["QueueId"], "State": "Paused", "NotifyConfig": notify},
    )
    updated = updated_queue(response)
    assert updated["QueueId"] == queue["QueueId"]
    assert updated["Name"] == "renamed-queue" and updated["State"] == "Paused"
    assert updated["Category"] == "Transcoding" and updated["CreateTime"] == queue["CreateTime"]
    for field, value in notify.items():
        assert updated["NotifyConfig"][field] == value, field
    listed = media_queue(ci, media_bucket)
    assert listed["Name"] == "renamed-queue" and listed["State"] == "Paused"
    assert listed["NotifyConfig"] == updated["NotifyConfig"]
    assert ci.ci_get_media_queue(Bucket=media_bucket, State="Active")["TotalCount"] == "0"
    assert ci.ci_get_media_queue(Bucket=media_bucket, State="Paused")["TotalCount"] == "1"


@pytest.mark.parametrize(
    "fields, word",
    [
        ({"State": "Sleeping"}, "State"),
        ({"MaxConcurrent": "0"}, "MaxConcurrent"),
        ({"MaxConcurrent": "many"}, "MaxConcurrent"),
        ({"MaxConcurrent": "\u00b2"}, "MaxConcurrent"),  # str.isdigit() says yes, int() says no
        ({"Name": "q" * 101}, "Name"),
        ({"NotifyConfig": {"Url": "ftp://127.0.0.1/cb", "Type": "Url", "State": "On"}}, "Url"),
        ({"NotifyConfig": {"Url": "http://127.0.0.1/cb", "Type": "TDMQ", "State": "On"}}, "TDMQ"),
    ],
    ids=["state", "max-concurrent-zero", "max-concurrent-text", "max-concurrent-superscript", "long-name"]
    + ["notify-url", "notify-type"],
)
def test_invalid_queue_updates_are_refused(
    ci: CosS3Client, media_bucket: str, fields: dict[str, Any], word: str
) -> None:
    queue = media_queue(ci, media_bucket)
    err = error_of(set_queue, ci=ci, bucket=media_bucket, queue=queue, **fields)
    assert err.get_status_code() == 400 and err.get_error_code() == "InvalidArgument"
    assert word in err.get_error_msg()
    assert media_queue(ci, media_bucket) == queue


# --- pause and concurrency, end to end -------------------------------------------------------------


def executed_jobs(server: ServerProcess) -> set[str]:
    """Job ids the test processors really ran (each execution logs ``<job_id> <Type> <keys>``)."""
    log = Path(server.env["COSFLOW_TEST_EXEC_LOG"])
    return {line.split(" ", 1)[0] for line in log.read_text().splitlines()} if log.exists() else set()


def execution(ci: CosS3Client, bucket: str, run_id: str) -> dict[str, Any]:
    return ci.ci_get_workflowexecution(Bucket=bucket, RunId=run_id)["WorkflowExecution"][0]


def tasks_of(ci: CosS3Client, bucket: str, run_id: str) -> dict[str, dict[str, Any]]:
    return {t["Name"]: t for t in as_list(execution(ci, bucket, run_id).get("Tasks"))}


def active_workflow(ci: CosS3Client, bucket: str, nodes: dict[str, dict[str, Any]], deps: dict[str, str]) -> str:
    body = workflow_body("wf-queue", deps, nodes, prefix="in/", state="Active")
    return ci.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]


def test_paused_queue_holds_new_tasks(ci: CosS3Client, engine_server: ServerProcess, media_bucket: str) -> None:
    template = transcode_template(ci, media_bucket)
    workflow_id = active_workflow(
        ci,
        media_bucket,
        {"Transcode_1": node("Transcode", "out/${InputName}.${Ext}", TemplateId=template)},
        {"Start": "Transcode_1", "Transcode_1": "End"},
    )
    queue = media_queue(ci, media_bucket)
    assert set_queue(ci, media_bucket, queue, State="Paused")["State"] == "Paused"

    ci.put_object(Bucket=media_bucket, Key="in/held.mp4", Body=b"held")
    runs = runs_of(ci, media_bucket, workflow_id)
    assert len(runs) == 1
    run_id = runs[0]["RunId"]
    task = tasks_of(ci, media_bucket, run_id)["Transcode_1"]
    assert task["State"] == "Pause", task
    # it stays held: give the dispatcher several chances to (wrongly) start it
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        held = execution(ci, media_bucket, run_id)
        assert held["State"] == "Running"
        assert as_list(held["Tasks"])[0]["State"] == "Pause"
        time.sleep(0.05)
    assert task["JobId"] not in executed_jobs(engine_server)
    assert not ci.object_exists(Bucket=media_bucket, Key="out/held.mp4")

    assert set_queue(ci, media_bucket, queue, State="Active")["State"] == "Active"
    finished = wait_run(ci, media_bucket, run_id, timeout=10)
    assert finished["State"] == "Success", finished
    assert as_list(finished["Tasks"])[0]["State"] == "Success"
    assert task["JobId"] in executed_jobs(engine_server)
    assert ci.get_object(Bucket=media_bucket, Key="out/held.mp4")["Body"].get_raw_stream().read() == b"Transcode(held)"


def test_running_tasks_finish_when_the_queue_pauses(
    ci: CosS3Client, engine_server: ServerProcess, media_bucket: str
) -> None:
    transcode = transcode_template(ci, media_bucket)
    snapshot = snapshot_template(ci, media_bucket)
    workflow_id = active_workflow(
        ci,
        media_bucket,
        {
            "Transcode_1": node("Transcode", "out/${InputName}.${Ext}", TemplateId=transcode),
            "Snapshot_1": node("Snapshot", "snaps/${InputName}.${Ext}", TemplateId=snapshot),
        },
        {"Start": "Transcode_1", "Transcode_1": "Snapshot_1", "Snapshot_1": "End"},
    )
    queue = media_queue(ci, media_bucket)
    ci.put_object(Bucket=media_bucket, Key="in/slow.mp4", Body=b"sleep=2")
    run_id = runs_of(ci, media_bucket, workflow_id)[0]["RunId"]
    running = poll(lambda: tasks_of(ci, media_bucket, run_id), lambda tasks: tasks["Transcode_1"]["State"] == "Running")
    assert set_queue(ci, media_bucket, queue, State="Paused")["State"] == "Paused"

    # the running task is not interrupted ...
    tasks = poll(
        lambda: tasks_of(ci, media_bucket, run_id),
        lambda tasks: tasks["Transcode_1"]["State"] in FINAL and "Snapshot_1" in tasks,
        timeout=10,
    )
    assert tasks["Transcode_1"]["State"] == "Success", tasks
    assert tasks["Transcode_1"]["JobId"] == running["Transcode_1"]["JobId"]
    # ... but its successor, created while the queue is paused, is held
    assert tasks["Snapshot_1"]["State"] == "Pause", tasks
    assert execution(ci, media_bucket, run_id)["State"] == "Running"
    time.sleep(0.3)
    assert tasks_of(ci, media_bucket, run_id)["Snapshot_1"]["State"] == "Pause"
    assert tasks["Snapshot_1"]["JobId"] not in executed_jobs(engine_server)

    set_queue(ci, media_bucket, queue, State="Active")
    finished = wait_run(ci, media_bucket, run_id, timeout=10)
    assert finished["State"] == "Success", finished
    assert [t["State"] for t in as_list(finished["Tasks"])] == ["Success", "Success"]
    assert ci.get_object(Bucket=media_bucket, Key="out/slow.mp4")["Body"].get_raw_stream().read() == (
        b"Transcode(sleep=2)"
    )


def test_max_concurrent_is_honoured(ci: CosS3Client, media_bucket: str) -> None:
    template = transcode_template(ci, media_bucket)
    body = workflow_body(
        "wf-serial",
        {"Start": "Transcode_1", "Transcode_1": "End"},
        {"Transcode_1": node("Transcode", "out/${InputName}-${RunId}.${Ext}", TemplateId=template)},
    )
    workflow_id = ci.ci_create_workflow(Bucket=media_bucket, Body=body)["MediaWorkflow"]["WorkflowId"]
    queue = media_queue(ci, media_bucket)
    assert set_queue(ci, media_bucket, queue, MaxConcurrent="1")["MaxConcurrent"] == "1"
    assert media_queue(ci, media_bucket)["MaxConcurrent"] == "1"
    ci.put_object(Bucket=media_bucket, Key="in/one-second.mp4", Body=b"sleep=1")

    started = time.monotonic()
    run_ids = [
        ci.ci_trigger_workflow(Bucket=media_bucket, WorkflowId=workflow_id, Key="in/one-second.mp4")["InstanceId"]
        for _ in range(3)
    ]

    def running_now() -> set[str]:
        """Jobs seen Running in two consecutive passes over all runs: these overlap in time."""
        passes = []
        for _ in range(2):
            passes.append(
                {t["JobId"] for r in run_ids for t in tasks_of(ci, media_bucket, r).values() if t["State"] == "Running"}
            )
        return passes[0] & passes[1]

    most, deadline = 0, time.monotonic() + 15
    while True:
        most = max(most, len(running_now()))
        assert most <= 1, "more than one task Running in a queue with MaxConcurrent 1"
        states = [execution(ci, media_bucket, r)["State"] for r in run_ids]
        if all(s in FINAL for s in states):
            break
        assert time.monotonic() < deadline, states
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    assert most == 1  # the loop did see the work happening
    assert states == ["Success"] * 3
    assert elapsed >= 3.0, f"three 1-second tasks one at a time took only {elapsed:.2f}s"
    for run_id in run_ids:
        assert [t["State"] for t in tasks_of(ci, media_bucket, run_id).values()] == ["Success"]
