"""Callback bodies, Standard Webhooks signatures and the address guard, as units."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from cosflow.callbacks.guard import Refused, check_address, check_url
from cosflow.domain import callbacks
from cosflow.domain.ci import Run, Task
from cosflow.domain.topology import Node

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
WHEN = datetime(2023, 8, 21, 9, 23, 21, tzinfo=UTC)


def _run(**overrides: object) -> Run:
    values = dict(
        run_id="i5f17a1fb400411ee88345254008e464b",
        workflow_id="w4699c83bde714bfd8d7f5dbd9b680f79",
        workflow_name="test",
        bucket="test-1234567890",
        object_key="car.mp4",
        cos_headers=[{"Key": "Content-Type", "Value": "video/mp4"}],
        topology_xml="<Topology/>",
        state="Success",
        code="",
        message="",
        created_at=WHEN,
        finished_at=WHEN,
    )
    values.update(overrides)
    return Run(**values)  # type: ignore[arg-type]


def _task(**overrides: object) -> Task:
    values = dict(
        job_id="j9679e59e400411eebd82718e65e03ae1",
        run_id="i5f17a1fb400411ee88345254008e464b",
        node_key="SmartCover_1659689887115",
        node_type="SmartCover",
        queue_id="p" + "0" * 32,
        state="Success",
        inputs=[["test-1234567890", "car.mp4"]],
        result={
            "objects": [
                {
                    "bucket": "test-1234567890",
                    "key": "car.mp4_i5f.jpg",
                    "url": "http://h/b/car.mp4_i5f.jpg",
                    "input": "car.mp4",
                }
            ],
            "sprites": [],
        },
        template_id="",
        template_name="",
        code="Success",
        message="",
        progress=100,
        attempts=1,
        created_at=WHEN,
        started_at=WHEN,
        ended_at=WHEN,
    )
    values.update(overrides)
    return Task(**values)  # type: ignore[arg-type]


SMART = Node(
    "SmartCover_1659689887115",
    "SmartCover",
    None,
    ET.fromstring("<Operation><SmartCover><Format>jpg</Format><Count>1</Count></SmartCover></Operation>"),
)


def test_json_body_matches_the_reference_shape() -> None:
    payload = callbacks.workflow_event("WorkflowFinish", _run(), [_task()], {SMART.key: SMART})
    body, content_type = callbacks.render(payload, "JSON")
    decoded = json.loads(body)
    assert content_type == "application/json" and list(decoded) == ["EventName", "WorkflowExecution"]
    execution = decoded["WorkflowExecution"]
    assert list(execution) == [
        "RunId",
        "BucketId",
        "Object",
        "CosHeaders",
        "WorkflowId",
        "WorkflowName",
        "CreateTime",
        "State",
        "Tasks",
    ]
    assert execution["CreateTime"] == "2023-08-21 17:23:21+0800"
    task = execution["Tasks"][0]
    assert task["SmartCover"] == {"format": "jpg", "count": "1"}
    assert task["ResultInfo"] == {
        "ObjectCount": 1,
        "ObjectInfo": [
            {"ObjectName": "car.mp4_i5f.jpg", "ObjectUrl": "http://h/b/car.mp4_i5f.jpg", "InputObjectName": "car.mp4"}
        ],
    }


def test_xml_body_and_sprite_counts_under_both_names() -> None:
    sprites = [{"bucket": "b", "key": "s-0.jpg", "url": "u0", "input": "car.mp4"}]
    task = _task(result={"objects": [], "sprites": sprites})
    body, content_type = callbacks.render(callbacks.workflow_event("WorkflowFinish", _run(), [task], {}), "XML")
    root = ET.fromstring(body)
    assert content_type == "application/xml" and root.tag == "Response"
    info = root.find("WorkflowExecution/Tasks/ResultInfo")
    assert info is not None
    assert info.findtext("ObjectCount") == "0"
    assert info.findtext("SpriteObjectCount") == "1" and info.findtext("SpriteObjectInfoCount") == "1"
    assert info.findtext("SpriteObjectInfo/ObjectName") == "s-0.jpg"


def test_workflow_start_has_no_tasks_and_no_cos_headers_when_none() -> None:
    payload = callbacks.workflow_event("WorkflowStart", _run(state="Running", cos_headers=[]), [], {})
    execution = json.loads(callbacks.render(payload, "JSON")[0])["WorkflowExecution"]
    assert execution["State"] == "Running" and execution["Tasks"] == [] and "CosHeaders" not in execution


def test_failed_task_carries_code_and_message() -> None:
    task = _task(state="Failed", code="InvalidInput", message="not a video", result=None)
    entry = callbacks.workflow_event("WorkflowFinish", _run(state="Failed"), [task], {})["WorkflowExecution"]["Tasks"][
        0
    ]
    assert (entry["Code"], entry["Message"]) == ("InvalidInput", "not a video")
    detail = callbacks.task_event(task, _run(), None, "ap-guangzhou")["JobsDetail"]
    assert (detail["Code"], detail["State"], detail["Tag"]) == ("InvalidInput", "Failed", "SmartCover")


def test_signature_verifies_with_the_standardwebhooks_package() -> None:
    body = b'{"EventName":"WorkflowStart"}'
    signature = callbacks.webhook_signature(SECRET, "msg_1", 1_700_000_000, body)
    expected = Webhook(SECRET).sign("msg_1", datetime.fromtimestamp(1_700_000_000, tz=UTC), body.decode())
    assert signature == expected


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "100.100.100.200",
        "64:ff9b::a9fe:a9fe",
        "::169.254.169.254",
    ],
)
def test_guard_always_refuses(address: str) -> None:
    with pytest.raises(Refused):
        check_address(address, deny_private=False)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.1.1", "::1"])
def test_loopback_and_private_allowed_by_default_deniable(address: str) -> None:
    check_address(address, deny_private=False)
    with pytest.raises(Refused):
        check_address(address, deny_private=True)


def test_guard_on_urls() -> None:
    for url in ("ftp://example.test/", "file:///etc/passwd", "http:///nohost"):
        with pytest.raises(Refused):
            asyncio.run(check_url(url, deny_private=False))
    asyncio.run(check_url("http://127.0.0.1:9/x", deny_private=False))
    with pytest.raises(Refused):
        asyncio.run(check_url("http://localhost:9/x", deny_private=True))  # resolved, not read as text


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/cb", "http://127.0.0.1:abc/cb", "http://[::1/cb"])
def test_a_url_with_an_unusable_port_is_refused_not_a_crash(url: str) -> None:
    """Such a URL used to raise ValueError out of the delivery and stall its whole batch."""
    with pytest.raises(Refused):
        asyncio.run(check_url(url, deny_private=False))


class _Rebinding:
    """A resolver whose answer for the host changes to the metadata address (DNS rebinding)."""

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[dict[str, object]]:
        return [{"hostname": host, "host": "169.254.169.254", "port": port, "family": family, "proto": 0, "flags": 0}]

    async def close(self) -> None:
        return None


def test_the_connecting_resolver_refuses_rebound_answers() -> None:
    from cosflow.callbacks.guard import GuardedResolver

    resolver = GuardedResolver(deny_private=False, inner=_Rebinding())  # type: ignore[arg-type]
    with pytest.raises(Refused):
        asyncio.run(resolver.resolve("hooks.example.test", 80))
    ok = GuardedResolver(deny_private=False)
    assert asyncio.run(ok.resolve("127.0.0.1", 80))[0]["host"] == "127.0.0.1"


def test_listener_refuses_entity_tricks_in_posted_xml() -> None:
    """Anyone can post to the listener's port: a billion-laughs body must not expand, and a deeply
    nested one is refused before the (recursive) summary reads it."""
    from cosflow.errors import MalformedXML
    from cosflow.listener import decode

    body = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><Response><EventName>&a;</EventName></Response>'
    with pytest.raises(MalformedXML, match="DTD"):
        decode(body)
    with pytest.raises(MalformedXML, match="nested"):
        decode(b"<a>" * 5000 + b"</a>" * 5000)
    assert decode(b"<Response><EventName>WorkflowStart</EventName></Response>") == {"EventName": "WorkflowStart"}
