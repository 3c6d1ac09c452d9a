"""Workflow callback bodies (spec §9): WorkflowStart / WorkflowFinish and TaskFinish, as XML or JSON.

The same neutral structure renders both ways: lists are repeated elements in XML and arrays in
JSON, counts are numbers in JSON and numeric text in XML.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from cosflow.domain import citimes, xmldoc
from cosflow.domain.ci import Run, Task
from cosflow.domain.topology import Node

#: Operation children that are not a task's inline parameters.
_NOT_PARAMS = {"TemplateId", "Output", "TranscodeTemplateId", "WatermarkTemplateId"}


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _element_dict(element: ET.Element) -> Any:
    if not len(element):
        return (element.text or "").strip()
    return {_lower_first(child.tag): _element_dict(child) for child in element}


def inline_params(node: Node | None) -> dict[str, Any]:
    """``{"SmartCover": {"format": "jpg", "count": "1"}}`` for a node with inline parameters."""
    if node is None or node.operation is None:
        return {}
    for child in node.operation:
        if child.tag == node.type and child.tag not in _NOT_PARAMS:
            return {node.type: _element_dict(child)}
    return {}


def result_info(task: Task) -> dict[str, Any]:
    result = task.result or {}
    objects, sprites = result.get("objects", []), result.get("sprites", [])
    info: dict[str, Any] = {
        "ObjectCount": len(objects),
        "ObjectInfo": [{"ObjectName": o["key"], "ObjectUrl": o["url"], "InputObjectName": o["input"]} for o in objects],
    }
    if sprites:
        # The reference page says SpriteObjectInfoCount, the Go SDK decodes SpriteObjectCount: both.
        info["SpriteObjectCount"] = len(sprites)
        info["SpriteObjectInfoCount"] = len(sprites)
        info["SpriteObjectInfo"] = [{"ObjectName": o["key"], "ObjectUrl": o["url"]} for o in sprites]
    return info


def _task_entry(task: Task, node: Node | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Type": task.node_type,
        "CreateTime": citimes.callback(task.created_at),
        "EndTime": citimes.callback(task.ended_at) if task.ended_at else "",
        "State": task.state,
        "JobId": task.job_id,
        "Name": task.node_key,
        "TemplateId": task.template_id,
        "TemplateName": task.template_name,
        **inline_params(node),
        "ResultInfo": result_info(task),
    }
    if task.state == "Failed":
        entry["Code"], entry["Message"] = task.code, task.message
    return entry


def workflow_event(event: str, run: Run, tasks: list[Task], nodes: Mapping[str, Node]) -> dict[str, Any]:
    """WorkflowStart (State Running, no tasks) or WorkflowFinish (every task)."""
    execution: dict[str, Any] = {
        "RunId": run.run_id,
        "BucketId": run.bucket,
        "Object": run.object_key,
    }
    if run.cos_headers:
        execution["CosHeaders"] = [{"Key": h["Key"], "Value": h["Value"]} for h in run.cos_headers]
    execution |= {
        "WorkflowId": run.workflow_id,
        "WorkflowName": run.workflow_name,
        "CreateTime": citimes.callback(run.created_at),
        "State": run.state,
        "Tasks": [_task_entry(t, nodes.get(t.node_key)) for t in tasks],
    }
    return {"EventName": event, "WorkflowExecution": execution}


def _output_bucket(node: Node | None, run: Run) -> str:
    """The node's ``Output/Bucket``, else the workflow's own bucket (docs/workflows.md)."""
    operation = node.operation if node is not None else None
    configured = (operation.findtext("Output/Bucket") or "").strip() if operation is not None else ""
    return configured or run.bucket


def _output_file(products: list[dict[str, Any]], bucket: str, region: str) -> dict[str, Any]:
    """One ``OutputFile`` / ``SpriteOutputFile`` (spec §9.3; Go ``MediaResult``): full keys in
    ObjectName, so ObjectPrefix + ObjectName is each stored key with ObjectPrefix empty."""
    return {
        "Region": region,
        "Bucket": products[0]["bucket"] if products else bucket,
        "ObjectPrefix": "",
        "ObjectName": [p["key"] for p in products],
    }


def _operation(task: Task, run: Run, node: Node | None, region: str) -> dict[str, Any]:
    operation = node.operation if node is not None else None
    bucket = _output_bucket(node, run)
    output = {"Region": region, "Bucket": bucket, "Object": ""}
    if operation is not None:
        output["Object"] = operation.findtext("Output/Object") or ""
        sprite_pattern = operation.findtext("Output/SpriteObject")
        if sprite_pattern is not None:
            output["SpriteObject"] = sprite_pattern
    result = task.result or {}
    output_file = _output_file(result.get("objects", []), bucket, region)
    if result.get("sprites"):
        output_file["SpriteOutputFile"] = _output_file(result["sprites"], bucket, region)
    return {
        "TemplateId": task.template_id,
        "TemplateName": task.template_name,
        **inline_params(node),
        "Output": output,
        "MediaResult": {"OutputFile": output_file},
        "UserData": "",
        "JobLevel": 0,
    }


def task_event(task: Task, run: Run, node: Node | None, region: str) -> dict[str, Any]:
    """TaskFinish: the JobsDetail body of spec §9.3.

    ``Input`` names the bucket and key the task read: the upload for Start's successors, its
    first parent's first output otherwise (which may be in another bucket: an Output/Bucket
    upstream). Sprite sheets are in ``Operation/MediaResult/OutputFile/SpriteOutputFile`` (spec
    §9.3, Go ``MediaResult``); ``ResultInfo`` repeats the task's WorkflowFinish entry (object URLs,
    ``SpriteObjectInfo`` and its counts, spec §7.2) so one shape serves both events.
    """
    input_bucket, input_key = task.inputs[0] if task.inputs else (run.bucket, run.object_key)
    detail: dict[str, Any] = {
        "Code": "Success" if task.state == "Success" else task.code,
        "Message": "" if task.state == "Success" else task.message,
        "JobId": task.job_id,
        "Tag": task.node_type,
        "State": task.state,
        "CreationTime": citimes.api(task.created_at),
        "StartTime": citimes.api(task.started_at) if task.started_at else "",
        "EndTime": citimes.api(task.ended_at) if task.ended_at else "",
        "QueueId": task.queue_id,
        "Input": {"BucketId": input_bucket, "Region": region, "Object": input_key, "CosHeaders": run.cos_headers},
        "Operation": _operation(task, run, node, region),
        "ResultInfo": result_info(task),
        "Workflow": {
            "RunId": run.run_id,
            "WorkflowId": run.workflow_id,
            "WorkflowName": run.workflow_name,
            "Name": task.node_key,
        },
    }
    return {"EventName": "TaskFinish", "JobsDetail": detail}


def render(payload: Mapping[str, Any], result_format: str) -> tuple[bytes, str]:
    """The body and its Content-Type."""
    if result_format.upper() == "JSON":
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(), "application/json"
    return xmldoc.render("Response", payload), "application/xml"


def secret_bytes(secret: str) -> bytes:
    """A Standard Webhooks secret (``whsec_<base64>``) as the HMAC key."""
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        return secret.encode()


def webhook_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of id.timestamp.body>`` (Standard Webhooks)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()
