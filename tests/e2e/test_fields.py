"""Every field of a workflow, node, template or queue body is honoured or refused by name (issue 8
§2), and template values are checked when the template is written (issue 8 §3.4). Driven with the
official SDK against the real server (real processors)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from cosflow.domain import schemas
from cosflow.domain.fields import Honoured, Ignored, Schema
from cosflow.services.queues import UPDATE_FIELDS
from tests.support import tencent_fields as tencent
from tests.support.workflows import as_list, node, workflow_body

_NAMED = re.compile(r"^(?:template|queue|node \w+|MediaWorkflow): ([\w/]+) ")
_BASES = {
    "Transcode": {"Container/Format": "mp4"},
    "Snapshot": {"Snapshot/Count": "1"},
    "Animation": {"Container/Format": "gif"},
    "SmartCover": {"SmartCover/Count": "1"},
    "PicProcess": {"PicProcess/ProcessRule": "imageMogr2/thumbnail/64x"},
}
_OUTPUT = "w/${InputName}-${Number}.${Ext}"


def _refusal(call: Callable[[], Any]) -> str | None:
    """``None`` when the call succeeds, else the InvalidArgument message."""
    try:
        call()
    except CosServiceError as err:
        assert err.get_status_code() == 400 and err.get_error_code() == "InvalidArgument", err.get_error_msg()
        return str(err.get_error_msg())
    return None


def _accepted(schema: Schema, path: str, value: str) -> bool:
    """Honoured with this value, or accepted without effect (``Ignored``), by cosflow's table."""
    rule = schema.fields.get(path)
    honoured = isinstance(rule, Honoured) and (not rule.values or value.lower() in rule.values)
    return honoured or isinstance(rule, Ignored)


def _check(schema: Schema, path: str, value: str, message: str | None, shown: str) -> None:
    """Accepted exactly when the table accepts it; a refusal names the field or its group."""
    if _accepted(schema, path, value):
        assert message is None, f"{shown}={value!r} is accepted by the table but was refused: {message}"
        return
    assert message is not None, f"{shown}={value!r} was accepted but the table refuses it"
    named = _NAMED.match(message)
    assert named, message
    assert shown == named.group(1) or shown.startswith(named.group(1) + "/"), (shown, message)


def _sample(kind: str, path: str, schema: Schema, prefix: str = "") -> tuple[str, dict[str, str]]:
    sample = tencent.SAMPLES[kind].get(path)
    if sample is None:
        assert not isinstance(schema.fields.get(prefix + path), Honoured), f"{kind} {path}: honoured, add a sample"
        return "1", {}
    return sample


def _fill(text: str, values: dict[str, str]) -> str:
    return text.format(**values) if text.startswith("{") else text


# --- the walk: templates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "path"), [(tag, path) for tag, struct in tencent.TEMPLATES.items() for path in tencent.paths(struct)]
)
def test_every_tencent_template_field_is_honoured_or_refused(
    client: CosS3Client, bucket: str, tag: str, path: str
) -> None:
    schema = schemas.TEMPLATES[tag]
    value, context = _sample(tag, path, schema)
    body: dict[str, Any] = {"Tag": tag, "Name": "walk"}
    for where, text in {**_BASES[tag], **context, path: value}.items():
        tencent.put(body, where, text)
    message = _refusal(lambda: client.ci_create_template(Bucket=bucket, Template=body))
    _check(schema, path, value, message, path)


# --- the walk: workflow nodes -------------------------------------------------------------------


@pytest.fixture(scope="module")
def walk_setup(client: CosS3Client) -> dict[str, Any]:
    """A bucket with one template per Tag (and a sprite Snapshot template) and its queue ids."""
    bucket = "fieldwalk-1250000000"
    client.create_bucket(Bucket=bucket)
    ids = {}
    for tag, base in {**_BASES, "Sprite": {"Snapshot/Count": "4", "Snapshot/SnapshotOutMode": "OnlySprite"}}.items():
        body: dict[str, Any] = {"Tag": "Snapshot" if tag == "Sprite" else tag, "Name": f"walk-{tag}"}
        for where, text in base.items():
            tencent.put(body, where, text)
        if tag == "Sprite":
            tencent.put(body, "Snapshot/SpriteSnapshotConfig/Columns", "2")
            tencent.put(body, "Snapshot/SpriteSnapshotConfig/Lines", "2")
        ids[tag] = client.ci_create_template(Bucket=bucket, Template=body)["Template"]["TemplateId"]
    queue = as_list(client.ci_get_media_queue(Bucket=bucket)["QueueList"])[0]["QueueId"]
    pic_queue = as_list(client.ci_get_media_pic_queue(Bucket=bucket)["QueueList"])[0]["QueueId"]
    return {"bucket": bucket, "ids": ids, "queue": queue, "pic_queue": pic_queue}


_NODE_TYPES = ("Transcode", "Snapshot", "Animation", "SmartCover", "PicProcess", "Segment")


def _operation(node_type: str, ids: dict[str, str]) -> dict[str, Any]:
    if node_type == "Segment":
        return {"Segment": {"Format": "mp4"}, "Output": {"Object": _OUTPUT}}
    if node_type == "SmartCover":
        return {"Output": {"Object": _OUTPUT}}
    return {"TemplateId": ids[node_type], "Output": {"Object": _OUTPUT}}


@pytest.mark.parametrize(
    ("node_type", "path"), [(t, p) for t in _NODE_TYPES for p in tencent.paths(tencent.NODE_OPERATION)]
)
def test_every_tencent_node_field_is_honoured_or_refused(
    client: CosS3Client, walk_setup: dict[str, Any], node_type: str, path: str
) -> None:
    schema = schemas.NODES[node_type]
    value, context = _sample("Operation", path, schema, "Operation/")
    ids = walk_setup["ids"]
    values = {
        "bucket": walk_setup["bucket"],
        "template": ids.get(node_type, ids["Transcode"]),
        "sprite_template": ids["Sprite"] if node_type == "Snapshot" else "",
    }
    operation = _operation(node_type, ids)
    for where, text in {**context, path: value}.items():
        tencent.put(operation, where, _fill(text, values))
    body = workflow_body("walk", {"Start": "N_1", "N_1": "End"}, {"N_1": {"Type": node_type, "Operation": operation}})
    message = _refusal(lambda: client.ci_create_workflow(Bucket=walk_setup["bucket"], Body=body))
    _check(schema, f"Operation/{path}", _fill(value, values), message, f"Operation/{path}")


@pytest.mark.parametrize("path", tencent.paths(tencent.START_INPUT))
def test_every_tencent_start_field_is_honoured_or_refused(
    client: CosS3Client, walk_setup: dict[str, Any], path: str
) -> None:
    value, context = _sample("Start", f"Input/{path}", schemas.START_NODE)
    body = workflow_body(
        "walk",
        {"Start": "N_1", "N_1": "End"},
        {"N_1": node("Transcode", "w/x", TemplateId=walk_setup["ids"]["Transcode"])},
    )
    start = body["MediaWorkflow"]["Topology"]["Nodes"]["Start"]
    for where, text in {**context, f"Input/{path}": value}.items():
        tencent.put(start, where, _fill(text, walk_setup))
    message = _refusal(lambda: client.ci_create_workflow(Bucket=walk_setup["bucket"], Body=body))
    _check(schemas.START_NODE, f"Input/{path}", _fill(value, walk_setup), message, f"Input/{path}")


@pytest.mark.parametrize("path", tencent.paths(tencent.QUEUE_UPDATE))
def test_every_tencent_queue_field_is_honoured_or_refused(
    client: CosS3Client, walk_setup: dict[str, Any], path: str
) -> None:
    value, context = _sample("Queue", path, UPDATE_FIELDS)
    request: dict[str, Any] = {}
    for where, text in {**context, path: value}.items():
        tencent.put(request, where, _fill(text, walk_setup))
    bucket, queue = walk_setup["bucket"], walk_setup["queue"]
    message = _refusal(lambda: client.ci_update_media_queue(Bucket=bucket, QueueId=queue, Request=request))
    _check(UPDATE_FIELDS, path, _fill(value, walk_setup), message, path)
