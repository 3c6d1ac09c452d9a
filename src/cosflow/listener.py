"""``cosflow callbacks listen``: a local receiver that prints each callback readably, verifies
Standard Webhooks signatures when given the secret, and answers a chosen status (to test retries)."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from rich.console import Console
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from cosflow.domain.callbacks import webhook_signature

TOLERANCE_SECONDS = 300


def _as_dict(element: ET.Element) -> Any:
    if not len(element):
        return element.text or ""
    out: dict[str, Any] = {}
    for child in element:
        value = _as_dict(child)
        if child.tag in out:
            out[child.tag] = out[child.tag] if isinstance(out[child.tag], list) else [out[child.tag]]
            out[child.tag].append(value)
        else:
            out[child.tag] = value
    return out


def decode(body: bytes) -> dict[str, Any]:
    text = body.strip()
    if text.startswith(b"{"):
        return json.loads(text)
    return _as_dict(SafeET.fromstring(text, forbid_dtd=True))  # anyone can post to the port


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else ([] if value in (None, "") else [value])


def summary(payload: dict[str, Any]) -> list[str]:
    event = payload.get("EventName", "?")
    if "JobsDetail" in payload:
        job = payload["JobsDetail"]
        job = job[0] if isinstance(job, list) else job
        outputs = _listify(job.get("Operation", {}).get("MediaResult", {}).get("OutputFile", {}).get("ObjectName"))
        run = job.get("Workflow", {}).get("RunId", "")
        line = f"{event} run={run} task={job.get('Workflow', {}).get('Name')} {job.get('Tag')} {job.get('State')}"
        return [line + (f" {job.get('Code')}: {job.get('Message')}" if job.get("State") == "Failed" else "")] + [
            f"    -> {o}" for o in outputs
        ]
    execution = payload.get("WorkflowExecution", {})
    lines = [f"{event} run={execution.get('RunId')} object={execution.get('Object')} state={execution.get('State')}"]
    for task in _listify(execution.get("Tasks")):
        lines.append(f"  {task.get('Name')} ({task.get('Type')}) {task.get('State')}")
        for info in _listify(task.get("ResultInfo", {}).get("ObjectInfo")):
            lines.append(f"    -> {info.get('ObjectName')}  {info.get('ObjectUrl')}")
    return lines


def verify(secret: str, headers: Any, body: bytes) -> str:
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    given = headers.get("webhook-signature", "")
    if not (msg_id and stamp.isdecimal() and given):
        return "unsigned"
    if abs(time.time() - int(stamp)) > TOLERANCE_SECONDS:
        return "BAD (timestamp too old)"
    expected = webhook_signature(secret, msg_id, int(stamp), body)
    return "ok" if expected in given.split() else "BAD SIGNATURE"


class Listener:
    def __init__(self, status: int, secret: str | None, console: Console) -> None:
        self.status, self.secret, self.console = status, secret, console

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        try:
            lines = summary(decode(body))
        except (ValueError, ET.ParseError, DefusedXmlException) as exc:
            lines = [f"unreadable body ({exc}): {body[:200]!r}"]
        signature = verify(self.secret, request.headers, body) if self.secret else "not checked"
        self.console.print(f"[bold]{time.strftime('%H:%M:%S')}[/bold] signature={signature} -> {self.status}")
        for line in lines:
            self.console.print(line, markup=False)
        await Response(status_code=self.status)(scope, receive, send)
