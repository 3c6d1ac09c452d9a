"""Cases real SDK users hit (issue 8 §3), on real FFmpeg with generated media, the official SDK and
a real callback receiver: ObjectPrefix rooted at ``/``."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from qcloud_cos import CosS3Client

from tests.support.media import make_video
from tests.support.receiver import Received, Receiver
from tests.support.templates import snapshot_template
from tests.support.workflows import as_list, node, runs_of, workflow_body


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
