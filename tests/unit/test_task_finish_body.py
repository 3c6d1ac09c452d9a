"""The TaskFinish body (spec §9.3): the bucket a task read, where its outputs and sprite sheets
went, and how ``cosflow callbacks listen`` prints them (issue 8 §3.2, §3.7)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from cosflow.domain import callbacks
from cosflow.domain.topology import Node
from cosflow.listener import decode, summary
from tests.unit.test_callbacks_domain import _run, _task

SNAPSHOT = Node(
    "Snapshot_1",
    "Snapshot",
    None,
    ET.fromstring(
        "<Operation><TemplateId>t1</TemplateId><Output><Bucket>other-1250000000</Bucket>"
        "<Object>snap/${InputName}-${Number}.${Ext}</Object>"
        "<SpriteObject>sprite/${InputName}-${Number}.${Ext}</SpriteObject></Output></Operation>"
    ),
)
SPRITE_RESULT = {
    "objects": [
        {
            "bucket": "other-1250000000",
            "key": f"snap/car-{n}.jpg",
            "url": f"http://h/other/snap/car-{n}.jpg",
            "input": "mid/car.mp4",
        }
        for n in range(2)
    ],
    "sprites": [
        {
            "bucket": "other-1250000000",
            "key": "sprite/car-0.jpg",
            "url": "http://h/other/sprite/car-0.jpg",
            "input": "mid/car.mp4",
        }
    ],
}


def test_input_names_the_bucket_the_task_read() -> None:
    task = _task(node_type="Snapshot", node_key="Snapshot_1", inputs=[["mid-1250000000", "mid/car.mp4"]])
    detail = callbacks.task_event(task, _run(), SNAPSHOT, "ap-guangzhou")["JobsDetail"]
    assert detail["Input"]["BucketId"] == "mid-1250000000" and detail["Input"]["Object"] == "mid/car.mp4"
    assert detail["Input"]["Region"] == "ap-guangzhou"


def test_output_bucket_of_a_task_without_outputs_is_the_configured_one_or_the_workflows() -> None:
    failed = _task(state="Failed", code="InvalidInput", message="no", result=None)
    configured = callbacks.task_event(failed, _run(), SNAPSHOT, "r")["JobsDetail"]["Operation"]
    assert configured["Output"]["Bucket"] == configured["MediaResult"]["OutputFile"]["Bucket"] == "other-1250000000"
    default = callbacks.task_event(failed, _run(), None, "r")["JobsDetail"]["Operation"]
    assert default["Output"]["Bucket"] == "test-1234567890"  # the run's (workflow's) bucket


def test_sprites_in_json_and_xml() -> None:
    task = _task(node_type="Snapshot", node_key="Snapshot_1", result=SPRITE_RESULT)
    payload = callbacks.task_event(task, _run(), SNAPSHOT, "ap-guangzhou")
    body = json.loads(callbacks.render(payload, "JSON")[0])["JobsDetail"]
    files = body["Operation"]["MediaResult"]["OutputFile"]
    assert files["ObjectName"] == ["snap/car-0.jpg", "snap/car-1.jpg"]
    assert files["SpriteOutputFile"] == {
        "Region": "ap-guangzhou",
        "Bucket": "other-1250000000",
        "ObjectPrefix": "",
        "ObjectName": ["sprite/car-0.jpg"],
    }
    assert body["Operation"]["Output"]["SpriteObject"] == "sprite/${InputName}-${Number}.${Ext}"
    result = body["ResultInfo"]
    assert (result["ObjectCount"], result["SpriteObjectCount"], result["SpriteObjectInfoCount"]) == (2, 1, 1)
    assert result["SpriteObjectInfo"] == [
        {"ObjectName": "sprite/car-0.jpg", "ObjectUrl": "http://h/other/sprite/car-0.jpg"}
    ]
    root = ET.fromstring(callbacks.render(payload, "XML")[0])
    assert (
        root.findtext("JobsDetail/Operation/MediaResult/OutputFile/SpriteOutputFile/ObjectName") == "sprite/car-0.jpg"
    )
    assert root.findtext("JobsDetail/ResultInfo/SpriteObjectInfoCount") == "1"


def test_no_sprite_output_file_without_sprites() -> None:
    detail = callbacks.task_event(_task(), _run(), None, "r")["JobsDetail"]
    assert "SpriteOutputFile" not in detail["Operation"]["MediaResult"]["OutputFile"]
    assert "SpriteObject" not in detail["Operation"]["Output"]


def test_listener_prints_sprites_of_both_events_and_of_real_ci_bodies() -> None:
    task = _task(node_type="Snapshot", node_key="Snapshot_1", result=SPRITE_RESULT)
    for fmt in ("XML", "JSON"):
        job = summary(decode(callbacks.render(callbacks.task_event(task, _run(), SNAPSHOT, "r"), fmt)[0]))
        assert job[1:] == ["    -> snap/car-0.jpg", "    -> snap/car-1.jpg", "    -> sprite/car-0.jpg  (sprite)"]
        finish = summary(
            decode(callbacks.render(callbacks.workflow_event("WorkflowFinish", _run(), [task], {}), fmt)[0])
        )
        assert finish[-1] == "    -> sprite/car-0.jpg  http://h/other/sprite/car-0.jpg  (sprite)"
    # The reference TaskFinish sample: names relative to ObjectPrefix, one sprite sheet.
    sample = (
        b"<Response><EventName>TaskFinish</EventName><JobsDetail><Tag>Snapshot</Tag><State>Success</State>"
        b"<Operation><MediaResult><OutputFile><ObjectName>0.jpg</ObjectName><ObjectName>1.jpg</ObjectName>"
        b"<ObjectPrefix>output/snapshot-</ObjectPrefix><SpriteOutputFile><ObjectName>0.jpg</ObjectName>"
        b"<ObjectPrefix>output/sprite-</ObjectPrefix></SpriteOutputFile></OutputFile></MediaResult><MediaInfo/>"
        b"</Operation></JobsDetail></Response>"
    )
    assert summary(decode(sample))[1:] == [
        "    -> output/snapshot-0.jpg",
        "    -> output/snapshot-1.jpg",
        "    -> output/sprite-0.jpg  (sprite)",
    ]
