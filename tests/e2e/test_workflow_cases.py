"""Cases real SDK users hit (issue 8 §3), on real FFmpeg with generated media, the official SDK and
a real callback receiver: ObjectPrefix rooted at ``/``, the bucket a child task reads from, and the
sprite sheets of a Snapshot in its TaskFinish and in ``cosflow callbacks listen``."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from qcloud_cos import CosS3Client

from tests.support.media import make_video
from tests.support.receiver import Received, Receiver
from tests.support.server import APPID, REGION
from tests.support.templates import snapshot_template
from tests.support.workflows import as_list, node, runs_of, wait_run, workflow_body


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def _notify(url: str, events: str, fmt: str = "XML") -> dict[str, str]:
    return {"Url": url, "Type": "Url", "Event": events, "ResultFormat": fmt, "State": "On"}


def _clip(tmp_path: Path, name: str = "clip.mp4", audio: bool = False) -> Path:
    """One second of 160x120 at 10 fps: enough for every node here, quick for FFmpeg."""
    return make_video(tmp_path / name, seconds=1.0, width=160, height=120, fps=10, audio=audio)


def _body(received: Received) -> dict[str, Any]:
    return json.loads(received.body)


def _read(client: CosS3Client, bucket: str, key: str) -> bytes:
    return client.get_object(Bucket=bucket, Key=key)["Body"].get_raw_stream().read()


# --- 1. ObjectPrefix is rooted at "/" -----------------------------------------------------------
PREFIXES = {"root": "/", "wk": "/wk-test", "plain": "wk-test/", "empty": "", "other": "/other/"}
STARTED = {
    "root": {"wk-test/game.mp4", "top.mp4"},
    "wk": {"wk-test/game.mp4"},
    "plain": {"wk-test/game.mp4"},
    "empty": {"wk-test/game.mp4", "top.mp4"},
    "other": set(),
}


def test_object_prefix_is_rooted_at_the_bucket_root(
    client: CosS3Client, bucket: str, receiver: Receiver, tmp_path: Path
) -> None:
    """'/' takes every upload and '/wk-test' takes wk-test/game.mp4 (Python SDK demo, Go SDK test
    data); the prefix is echoed back as it was written."""
    snap = snapshot_template(client, bucket)
    ids = {}
    for name, prefix in PREFIXES.items():
        body = workflow_body(
            f"prefix-{name}",
            {"Start": "Snapshot_1", "Snapshot_1": "End"},
            {"Snapshot_1": node("Snapshot", f"{name}/${{InputName}}.${{Ext}}", TemplateId=snap)},
            prefix=prefix,
            state="Active",
            notify=_notify(receiver.url, "WorkflowFinish", "JSON"),
        )
        ids[name] = client.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]
    clip = _clip(tmp_path)
    for key in ("wk-test/game.mp4", "top.mp4"):
        client.upload_file(Bucket=bucket, Key=key, LocalFilePath=str(clip), ContentType="video/mp4")

    finished = receiver.wait_for(sum(len(v) for v in STARTED.values()), timeout=120)
    by_workflow: dict[str, set[str]] = {name: set() for name in PREFIXES}
    names = {v: k for k, v in ids.items()}
    for received in finished:
        execution = _body(received)["WorkflowExecution"]
        assert execution["State"] == "Success", execution
        by_workflow[names[execution["WorkflowId"]]].add(execution["Object"])
    assert by_workflow == STARTED
    for name, objects in STARTED.items():
        assert {r["Object"] for r in runs_of(client, bucket, ids[name])} == objects
        for key in objects:
            image = Image.open(io.BytesIO(_read(client, bucket, f"{name}/{Path(key).stem}.jpg")))
            assert image.format == "JPEG" and image.size == (160, 120)
    for name, prefix in PREFIXES.items():
        listed = client.ci_get_workflow(Bucket=bucket, Ids=ids[name])["MediaWorkflowList"]
        echoed = as_list(listed)[0]["Topology"]["Nodes"]["Start"]["Input"].get("ObjectPrefix")
        assert (echoed or "") == prefix


# --- 2. A child task reads from, and is reported in, the bucket that holds its input ------------
def test_child_task_input_is_the_bucket_that_holds_it(
    client: CosS3Client, bucket: str, receiver: Receiver, tmp_path: Path
) -> None:
    """Start -> Transcode (Output Bucket B2) -> Snapshot: the Snapshot reads B2's object, its
    TaskFinish Input names B2, and its own output (no Output Bucket) goes to the workflow's bucket."""
    b2 = f"b2{bucket.split('-')[0]}-{APPID}"
    client.create_bucket(Bucket=b2)
    transcode = client.ci_create_template(
        Bucket=bucket,
        Template={
            "Tag": "Transcode",
            "Name": "small-mp4",
            "Container": {"Format": "mp4"},
            "Video": {"Codec": "H.264", "Width": "160"},
            "Audio": {"Codec": "aac"},
        },
    )["Template"]["TemplateId"]
    snap = snapshot_template(client, bucket)
    transcode_node = {
        "Type": "Transcode",
        "Operation": {
            "TemplateId": transcode,
            "Output": {"Region": REGION, "Bucket": b2, "Object": "mid/${InputName}.${Ext}"},
        },
    }
    body = workflow_body(
        "chain",
        {"Start": "Transcode_1", "Transcode_1": "Snapshot_1", "Snapshot_1": "End"},
        {"Transcode_1": transcode_node, "Snapshot_1": node("Snapshot", "thumb/${InputName}.${Ext}", TemplateId=snap)},
        prefix="in/",
        state="Active",
        notify=_notify(receiver.url, "TaskFinish,WorkflowFinish"),
    )
    client.ci_create_workflow(Bucket=bucket, Body=body)
    client.upload_file(Bucket=bucket, Key="in/car.mp4", LocalFilePath=str(_clip(tmp_path, audio=True)))

    got = receiver.wait_for(3, timeout=120)
    jobs = {
        detail.findtext("Tag"): detail
        for detail in (ET.fromstring(r.body).find("JobsDetail") for r in got)
        if detail is not None
    }
    transcode_job, snapshot_job = jobs["Transcode"], jobs["Snapshot"]
    assert snapshot_job.findtext("State") == "Success", ET.tostring(snapshot_job)
    assert transcode_job.findtext("Input/BucketId") == bucket
    assert transcode_job.findtext("Input/Object") == "in/car.mp4"
    assert transcode_job.findtext("Operation/Output/Bucket") == b2
    assert transcode_job.findtext("Operation/MediaResult/OutputFile/Bucket") == b2
    assert snapshot_job.findtext("Input/BucketId") == b2
    assert snapshot_job.findtext("Input/Object") == "mid/car.mp4"
    assert snapshot_job.findtext("Input/Region") == REGION
    assert snapshot_job.findtext("Operation/Output/Bucket") == bucket  # no Output Bucket: the workflow's
    assert snapshot_job.findtext("Operation/MediaResult/OutputFile/Bucket") == bucket
    assert snapshot_job.findtext("Operation/MediaResult/OutputFile/ObjectName") == "thumb/car.jpg"

    run_id = snapshot_job.findtext("Workflow/RunId") or ""
    tasks = {t["Name"]: t for t in as_list(wait_run(client, bucket, run_id)["Tasks"])}
    mid = as_list(tasks["Transcode_1"]["ResultInfo"]["ObjectInfo"])[0]
    thumb = as_list(tasks["Snapshot_1"]["ResultInfo"]["ObjectInfo"])[0]
    assert mid["ObjectUrl"].endswith(f"/{b2}/mid/car.mp4") and mid["InputObjectName"] == "in/car.mp4"
    assert thumb["ObjectUrl"].endswith(f"/{bucket}/thumb/car.jpg") and thumb["InputObjectName"] == "mid/car.mp4"
    # The transcoded file exists only in B2, so the Snapshot can only have read it from there.
    assert not client.object_exists(Bucket=bucket, Key="mid/car.mp4")
    assert not client.object_exists(Bucket=b2, Key="thumb/car.jpg")
    assert Image.open(io.BytesIO(_read(client, bucket, "thumb/car.jpg"))).size == (160, 120)


# --- 7. Sprite sheets in TaskFinish and in the listener -----------------------------------------
def _sprite_workflow(client: CosS3Client, bucket: str, url: str, fmt: str) -> str:
    template = client.ci_create_template(
        Bucket=bucket,
        Template={
            "Tag": "Snapshot",
            "Name": "sprite",
            "Snapshot": {
                "Mode": "Average",
                "Count": "2",
                "SnapshotOutMode": "SnapshotAndSprite",
                "SpriteSnapshotConfig": {
                    "CellWidth": "32",
                    "CellHeight": "24",
                    "Color": "black",
                    "Columns": "2",
                    "Lines": "1",
                },
            },
        },
    )["Template"]["TemplateId"]
    snapshot = {
        "Type": "Snapshot",
        "Operation": {
            "TemplateId": template,
            "Output": {
                "Object": "snap/${InputName}-${Number}.${Ext}",
                "SpriteObject": "sprite/${InputName}-${Number}.${Ext}",
            },
        },
    }
    body = workflow_body(
        "sprites",
        {"Start": "Snapshot_1", "Snapshot_1": "End"},
        {"Snapshot_1": snapshot},
        prefix="v/",
        state="Active",
        notify=_notify(url, "TaskFinish,WorkflowFinish", fmt),
    )
    return client.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]


def _xml_job(body: bytes) -> dict[str, Any]:
    """The sprite-related parts of an XML TaskFinish, in the JSON body's shape."""
    detail = ET.fromstring(body).find("JobsDetail")
    assert detail is not None
    result = detail.find("ResultInfo")
    assert result is not None
    return {
        "SpriteObject": detail.findtext("Operation/Output/SpriteObject"),
        "Sprites": [e.text for e in detail.findall("Operation/MediaResult/OutputFile/SpriteOutputFile/ObjectName")],
        "SpriteBucket": detail.findtext("Operation/MediaResult/OutputFile/SpriteOutputFile/Bucket"),
        "Snaps": [e.text for e in detail.findall("Operation/MediaResult/OutputFile/ObjectName")],
        "SpriteObjectCount": int(result.findtext("SpriteObjectCount") or "-1"),
        "SpriteObjectInfoCount": int(result.findtext("SpriteObjectInfoCount") or "-1"),
        "SpriteInfo": [(e.findtext("ObjectName"), e.findtext("ObjectUrl")) for e in result.findall("SpriteObjectInfo")],
    }


def _json_job(body: bytes) -> dict[str, Any]:
    detail = json.loads(body)["JobsDetail"]
    files = detail["Operation"]["MediaResult"]["OutputFile"]
    result = detail["ResultInfo"]
    return {
        "SpriteObject": detail["Operation"]["Output"]["SpriteObject"],
        "Sprites": files["SpriteOutputFile"]["ObjectName"],
        "SpriteBucket": files["SpriteOutputFile"]["Bucket"],
        "Snaps": files["ObjectName"],
        "SpriteObjectCount": result["SpriteObjectCount"],  # a JSON number, as in WorkflowFinish
        "SpriteObjectInfoCount": result["SpriteObjectInfoCount"],
        "SpriteInfo": [(i["ObjectName"], i["ObjectUrl"]) for i in result["SpriteObjectInfo"]],
    }


@pytest.mark.parametrize("fmt", ["XML", "JSON"])
def test_task_finish_of_a_snapshot_carries_its_sprites(
    client: CosS3Client, bucket: str, receiver: Receiver, tmp_path: Path, fmt: str
) -> None:
    _sprite_workflow(client, bucket, receiver.url, fmt)
    client.upload_file(Bucket=bucket, Key="v/clip.mp4", LocalFilePath=str(_clip(tmp_path)))
    task_finish, workflow_finish = receiver.wait_for(2, timeout=120)
    job = (_json_job if fmt == "JSON" else _xml_job)(task_finish.body)
    assert job["SpriteObject"] == "sprite/${InputName}-${Number}.${Ext}"
    assert job["Sprites"] == ["sprite/clip-0.jpg"] and job["SpriteBucket"] == bucket
    assert job["Snaps"] == ["snap/clip-0.jpg", "snap/clip-1.jpg"]
    assert job["SpriteObjectCount"] == 1 and job["SpriteObjectInfoCount"] == 1
    ((name, url),) = job["SpriteInfo"]
    assert name == "sprite/clip-0.jpg" and url.endswith(f"/{bucket}/sprite/clip-0.jpg")
    sheet = Image.open(io.BytesIO(_read(client, bucket, "sprite/clip-0.jpg")))
    assert sheet.size == (2 * 32, 24)
    # The same sprite sheet as the run's WorkflowFinish reports it.
    finish = workflow_finish.body
    if fmt == "JSON":
        info = json.loads(finish)["WorkflowExecution"]["Tasks"][0]["ResultInfo"]["SpriteObjectInfo"]
        assert [(i["ObjectName"], i["ObjectUrl"]) for i in info] == job["SpriteInfo"]
    else:
        found = ET.fromstring(finish).findall("WorkflowExecution/Tasks/ResultInfo/SpriteObjectInfo")
        assert [(e.findtext("ObjectName"), e.findtext("ObjectUrl")) for e in found] == job["SpriteInfo"]


def test_listen_prints_sprite_outputs(client: CosS3Client, bucket: str, tmp_path: Path) -> None:
    """``cosflow callbacks listen`` shows the sprite sheets of TaskFinish and WorkflowFinish."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    listener = subprocess.Popen(
        [sys.executable, "-m", "cosflow", "callbacks", "listen", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "250"},
    )
    assert listener.stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(line.rstrip("\n") for line in listener.stdout), daemon=True)
    reader.start()
    try:
        _sprite_workflow(client, bucket, f"http://127.0.0.1:{port}/hook", "XML")
        client.upload_file(Bucket=bucket, Key="v/clip.mp4", LocalFilePath=str(_clip(tmp_path)))
        deadline = time.monotonic() + 120
        while not any(line.startswith("WorkflowFinish") for line in lines) or not lines[-1].startswith("    ->"):
            assert time.monotonic() < deadline, "\n".join(lines)
            time.sleep(0.1)
    finally:
        listener.terminate()
        listener.wait(10)
        reader.join(10)
        listener.stdout.close()
    output = "\n".join(lines)
    task = lines.index(next(line for line in lines if line.startswith("TaskFinish")))
    finish = lines.index(next(line for line in lines if line.startswith("WorkflowFinish")))
    assert "    -> sprite/clip-0.jpg  (sprite)" in lines[task:finish], output
    sprite_lines = [line for line in lines[finish:] if line.startswith("    -> sprite/clip-0.jpg  http")]
    assert len(sprite_lines) == 1 and sprite_lines[0].endswith(f"/{bucket}/sprite/clip-0.jpg  (sprite)"), output
