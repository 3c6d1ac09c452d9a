"""Failure messages users see (the execution's task Message, the TaskFinish and WorkflowFinish
callbacks) name the input object and the reason in words: never a server path, a scratch file
name or a raw errno number. Real server, real FFmpeg/PyAV/Pillow, the official SDK, a real receiver."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from cosflow.media.ffmpeg import executable
from tests.conftest import make_client
from tests.support.media import make_image, make_video
from tests.support.receiver import Receiver
from tests.support.server import ServerProcess
from tests.support.templates import picprocess_template, snapshot_template, transcode_template
from tests.support.workflows import as_list, node, runs_of, wait_run, workflow_body

INPUTS = ("empty", "garbage", "text", "truncated")
PROCESSORS = ("Transcode", "Snapshot", "SmartCover", "Animation", "Segment", "PicProcess")


def _bodies(tmp_path: Path) -> dict[tuple[str, str], bytes]:
    """Each bad input as a video (``mp4``) and as a picture (``jpg``)."""
    video = make_video(tmp_path / "whole.mp4", seconds=2.0).read_bytes()
    picture = make_image(tmp_path / "whole.jpg").read_bytes()
    fast = tmp_path / "fast.mp4"  # the index first: the first half probes fine, then runs out
    subprocess.run(
        [executable(), "-v", "error", "-i", str(tmp_path / "whole.mp4"), "-c", "copy", "-movflags", "+faststart"]
        + [str(fast)],
        check=True,
        timeout=60,
    )
    out: dict[tuple[str, str], bytes] = {("cut", "mp4"): fast.read_bytes()[: fast.stat().st_size // 2]}
    for ext, whole in (("mp4", video), ("jpg", picture)):
        out[("empty", ext)] = b""
        out[("garbage", ext)] = b"\x00\x01garbage\xff" * 1000
        out[("text", ext)] = b"not a video at all, just a line of text\n"
        out[("truncated", ext)] = whole[: len(whole) // 2]
    return out


def _nodes(client: CosS3Client, bucket: str) -> dict[str, dict[str, Any]]:
    animation = client.ci_create_template(
        Bucket=bucket,
        Template={
            "Tag": "Animation",
            "Name": "anim",
            "Container": {"Format": "gif"},
            "Video": {"Codec": "gif", "Fps": "5"},
            "TimeInterval": {"Duration": "1"},
        },
    )["Template"]["TemplateId"]
    return {
        "Transcode": node("Transcode", "o/${InputName}.${Ext}", TemplateId=transcode_template(client, bucket)),
        "Snapshot": node("Snapshot", "o/${InputName}-${Number}.${Ext}", TemplateId=snapshot_template(client, bucket)),
        "SmartCover": node("SmartCover", "o/${InputName}.${Ext}", SmartCover={"Format": "jpg", "Count": "1"}),
        "Animation": node("Animation", "o/${InputName}.${Ext}", TemplateId=animation),
        "Segment": node("Segment", "o/${InputName}-${Number}.${Ext}", Segment={"Format": "mp4", "Duration": "5"}),
        "PicProcess": node("PicProcess", "o/${InputName}.${Ext}", TemplateId=picprocess_template(client, bucket)),
    }


def _messages(payload: Any) -> Iterator[str]:
    """Every ``Message`` in a callback body, however deep."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "Message" and isinstance(value, str):
                yield value
            else:
                yield from _messages(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from _messages(item)


def _assert_clean(message: str, key: str, server: ServerProcess) -> None:
    data_dir = str(server.data_dir)
    for leak in (data_dir, str(server.data_dir.resolve()), "data/work", "/work/", "input-0", "Errno", "errno"):
        assert leak not in message, (leak, message)
    assert "\\" not in message and not re.search(r"(^|[\s'\"(])/[\w.-]+/", message), message  # no absolute path
    assert not re.search(r"\b-?\d{6,}\b", message), message  # no raw error number (AVERROR 1094995529)
    assert "Traceback" not in message and " @ 0x" not in message, message
    assert key in message, (key, message)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def test_bad_inputs_fail_with_messages_that_name_the_object_not_server_paths(
    client: CosS3Client, server: ServerProcess, bucket: str, receiver: Receiver, tmp_path: Path
) -> None:
    notify = {"Url": receiver.url, "Type": "Url", "Event": "TaskFinish,WorkflowFinish", "ResultFormat": "JSON"}
    workflows = {}
    for processor, step in _nodes(client, bucket).items():
        body = workflow_body(
            processor,
            {"Start": f"{processor}_1", f"{processor}_1": "End"},
            {f"{processor}_1": step},
            prefix=f"{processor}/",
            state="Active",
            notify={**notify, "State": "On"},
        )
        workflows[processor] = client.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]
    bodies = _bodies(tmp_path)
    keys: dict[str, str] = {}  # RunId -> the input object key
    for processor in PROCESSORS:
        ext = "jpg" if processor == "PicProcess" else "mp4"
        for case in INPUTS:
            key = f"{processor}/{case} clip.{ext}"
            client.put_object(Bucket=bucket, Key=key, Body=bodies[(case, ext)])
    # decodes half-way: FFmpeg runs, and the check after it (which names no file) fails the task
    client.put_object(Bucket=bucket, Key="Transcode/cut clip.mp4", Body=bodies[("cut", "mp4")])
    for processor in PROCESSORS:
        for run in runs_of(client, bucket, workflows[processor]):
            keys[run["RunId"]] = run["Object"]
    assert len(keys) == len(PROCESSORS) * len(INPUTS) + 1

    for run_id, key in keys.items():
        execution = wait_run(client, bucket, run_id, timeout=120)
        task = as_list(execution["Tasks"])[0]
        assert execution["State"] == "Failed" and task["State"] == "Failed", (key, execution)
        assert task["Code"] == "InvalidInput", (key, task)
        _assert_clean(task["Message"], key, server)
        if key == "Transcode/cut clip.mp4":
            assert task["Message"].startswith(key) and "truncated" in task["Message"], task
        elif key.startswith("Transcode/empty"):
            assert task["Message"] == f"{key} is empty (0 bytes)"

    received = receiver.wait_for(2 * len(keys), timeout=60)
    seen: set[str] = set()
    for callback in received:
        payload = json.loads(callback.body)
        execution = payload.get("WorkflowExecution") or {}
        key = execution.get("Object") or next(iter(_inputs(payload)))
        messages = [m for m in _messages(payload) if m]
        assert messages, payload
        for message in messages:
            _assert_clean(message, key, server)
        seen.add(payload["EventName"])
    assert seen == {"TaskFinish", "WorkflowFinish"}


def _inputs(payload: Any) -> Iterator[str]:
    """The TaskFinish input object key(s)."""
    if isinstance(payload, dict):
        if isinstance(payload.get("Input"), dict) and "Object" in payload["Input"]:
            yield payload["Input"]["Object"]
        for value in payload.values():
            yield from _inputs(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from _inputs(item)


def _wait(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return found


def test_server_side_failures_are_words_and_the_log_keeps_the_detail(tmp_path: Path) -> None:
    """A scratch dir that cannot be made, a blob store that cannot be written, a callback host
    that does not resolve: the user reads words; the server log has the paths."""
    server = ServerProcess(tmp_path / "data").start()
    work = server.data_dir / "work"
    blobs = server.data_dir / "storage" / "blobs"
    try:
        client = make_client(server.port)
        bucket = "fail-1250000000"
        client.create_bucket(Bucket=bucket)
        notify = {"Url": "http://cosflow-test.invalid/hook", "Type": "Url", "Event": "WorkflowStart", "State": "On"}
        step = node("Transcode", "o/${InputName}.${Ext}", TemplateId=transcode_template(client, bucket))
        body = workflow_body("w", {"Start": "T_1", "T_1": "End"}, {"T_1": step}, state="Active", notify=notify)
        workflow_id = client.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]
        shutil.rmtree(work, ignore_errors=True)
        work.write_text("not a directory")  # the runner cannot make its scratch dir
        client.put_object(Bucket=bucket, Key="in/clip.mp4", Body=make_video(tmp_path / "c.mp4", 1.0).read_bytes())
        run_id = runs_of(client, bucket, workflow_id)[0]["RunId"]
        task = as_list(wait_run(client, bucket, run_id, timeout=60)["Tasks"])[0]
        assert task["Code"] == "InternalError", task
        assert task["Message"] == "the server could not run the task: not a directory", task

        listed = _wait(lambda: _delivery_errors(server))  # a name that does not resolve
        assert "gaierror: " in listed and "Errno" not in listed and str(server.data_dir) not in listed, listed

        shutil.rmtree(blobs)
        blobs.write_text("not a directory")  # every new blob fails to be stored
        with pytest.raises(CosServiceError) as caught:
            client.put_object(Bucket=bucket, Key="x.txt", Body=b"hello")
        raw = caught.value.get_digest_msg()
        assert caught.value.get_status_code() == 500 and raw["code"] == "InternalError"
        assert raw["message"] == "We encountered an internal error. Please try again.", raw
        assert str(server.data_dir) not in str(raw) and "Errno" not in str(raw)
    finally:
        server.stop()
    log = "".join(server.output)
    assert f"{work}/" in log and "Not a directory" in log  # the operator still sees the detail
    assert str(blobs) in log


def _delivery_errors(server: ServerProcess) -> str:
    """The delivery log's lines (``cosflow callbacks list``) once an attempt has failed."""
    result = subprocess.run(
        [sys.executable, "-m", "cosflow", "callbacks", "list", "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout if "attempts=1" in result.stdout else ""
