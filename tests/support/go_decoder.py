"""A strict decoder with the fields and types of the Go SDK's ``WorkflowExecutionNotifyBody``
(spec §9.2): it fails on a missing required field or a mistyped one, in XML and in JSON."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

# Schema: field -> (type, required). Types: str, int, a nested dict, or [schema] for a list.
OBJECT_INFO = {
    "ObjectName": (str, True),
    "ObjectUrl": (str, True),
    "InputObjectName": (str, False),
    "Code": (str, False),
    "Message": (str, False),
}
RESULT_INFO = {
    "ObjectCount": (int, True),
    "SpriteObjectCount": (int, False),
    "ObjectInfo": ([OBJECT_INFO], False),
    "SpriteObjectInfo": ([OBJECT_INFO], False),
}
TASK = {
    "Type": (str, True),
    "CreateTime": (str, True),
    "EndTime": (str, True),
    "State": (str, True),
    "JobId": (str, True),
    "Name": (str, True),
    "TemplateId": (str, True),
    "TemplateName": (str, True),
    "TranscodeTemplateId": (str, False),
    "TranscodeTemplateName": (str, False),
    "HdrMode": (str, False),
    "ResultInfo": (RESULT_INFO, True),
}
EXECUTION = {
    "RunId": (str, True),
    "BucketId": (str, True),
    "Object": (str, True),
    "CosHeaders": ([{"Key": (str, True), "Value": (str, True)}], False),
    "WorkflowId": (str, True),
    "WorkflowName": (str, True),
    "CreateTime": (str, True),
    "State": (str, True),
    "Tasks": ([TASK], False),
}
NOTIFY_BODY = {"EventName": (str, True), "WorkflowExecution": (EXECUTION, True)}


def _xml_value(elements: list[ET.Element], kind: Any, path: str) -> Any:
    if isinstance(kind, list):
        return [_xml_struct(e, kind[0], f"{path}[{i}]") for i, e in enumerate(elements)]
    if len(elements) > 1:
        raise AssertionError(f"{path}: repeated, but the Go field is not a slice")
    element = elements[0]
    if isinstance(kind, dict):
        return _xml_struct(element, kind, path)
    text = element.text or ""
    if kind is int:
        if not text.strip().lstrip("-").isdigit():
            raise AssertionError(f"{path}: {text!r} is not an int")
        return int(text)
    if len(element):
        raise AssertionError(f"{path}: has children, the Go field is a string")
    return text


def _xml_struct(element: ET.Element, schema: dict[str, Any], path: str) -> dict[str, Any]:
    out = {}
    for name, (kind, required) in schema.items():
        found = element.findall(name)
        if not found:
            if required:
                raise AssertionError(f"{path}.{name}: missing")
            continue
        out[name] = _xml_value(found, kind, f"{path}.{name}")
    return out


def _json_value(value: Any, kind: Any, path: str) -> Any:
    if isinstance(kind, list):
        if not isinstance(value, list):
            raise AssertionError(f"{path}: {type(value).__name__}, the Go field is a slice (JSON array)")
        return [_json_struct(v, kind[0], f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(kind, dict):
        return _json_struct(value, kind, path)
    if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise AssertionError(f"{path}: {value!r} is not a JSON number")
    if kind is str and not isinstance(value, str):
        raise AssertionError(f"{path}: {value!r} is not a JSON string")
    return value


def _json_struct(value: Any, schema: dict[str, Any], path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AssertionError(f"{path}: not an object")
    out = {}
    for name, (kind, required) in schema.items():
        if name not in value:
            if required:
                raise AssertionError(f"{path}.{name}: missing")
            continue
        out[name] = _json_value(value[name], kind, f"{path}.{name}")
    return out


def decode_xml(body: bytes) -> dict[str, Any]:
    root = ET.fromstring(body)
    if root.tag != "Response":
        raise AssertionError(f"root is <{root.tag}>, the Go struct's XMLName is Response")
    return _xml_struct(root, NOTIFY_BODY, "Response")


def decode_json(body: bytes) -> dict[str, Any]:
    return _json_struct(json.loads(body), NOTIFY_BODY, "$")
