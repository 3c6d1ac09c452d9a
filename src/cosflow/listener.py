"""``cosflow callbacks listen``: a local receiver that prints each callback readably, verifies
Standard Webhooks signatures when given the secret, and answers a chosen status (to test retries)."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from typing import Any

from rich.console import Console
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from cosflow.domain import xmldoc
from cosflow.domain.callbacks import webhook_signature
from cosflow.errors import MalformedXML

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
    return _as_dict(xmldoc.parse(text))  # anyone can post to the port: bounded, no DTD


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else ([] if value in (None, "") else [value])


def _child(value: Any, *path: str) -> dict[str, Any]:
    """The container at ``path`` (``{}`` where absent or empty: an empty XML element is ``""``)."""
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def _job_outputs(job: dict[str, Any]) -> list[str]:
    """``    -> key`` per output and ``    -> key  (sprite)`` per sprite sheet of a JobsDetail
    (``Operation/MediaResult/OutputFile`` and its ``SpriteOutputFile``, spec §9.3)."""
    files = _child(job, "Operation", "MediaResult", "OutputFile")
    sprites = _child(files, "SpriteOutputFile")
    prefix, sprite_prefix = files.get("ObjectPrefix") or "", sprites.get("ObjectPrefix") or ""
    return [f"    -> {prefix}{name}" for name in _listify(files.get("ObjectName"))] + [
        f"    -> {sprite_prefix}{name}  (sprite)" for name in _listify(sprites.get("ObjectName"))
    ]


def _task_outputs(task: dict[str, Any]) -> list[str]:
    """One line per ``ObjectInfo`` and per ``SpriteObjectInfo`` of a WorkflowFinish task (spec §7.2)."""
    result = _child(task, "ResultInfo")
    lines = [f"    -> {i.get('ObjectName')}  {i.get('ObjectUrl')}" for i in _listify(result.get("ObjectInfo"))]
    sprites = _listify(result.get("SpriteObjectInfo"))
    return lines + [f"    -> {i.get('ObjectName')}  {i.get('ObjectUrl')}  (sprite)" for i in sprites]


def summary(payload: dict[str, Any]) -> list[str]:
    """Readable lines for one callback body (TaskFinish, WorkflowStart/Finish), outputs and sprite
    sheets included."""
    event = payload.get("EventName", "?")
    if "JobsDetail" in payload:
        job = payload["JobsDetail"]
        job = job[0] if isinstance(job, list) else job
        workflow = _child(job, "Workflow")
        run, name = workflow.get("RunId", ""), workflow.get("Name")
        line = f"{event} run={run} task={name} {job.get('Tag')} {job.get('State')}"
        failed = f" {job.get('Code')}: {job.get('Message')}" if job.get("State") == "Failed" else ""
        return [line + failed] + _job_outputs(job)
    execution = payload.get("WorkflowExecution", {})
    lines = [f"{event} run={execution.get('RunId')} object={execution.get('Object')} state={execution.get('State')}"]
    for task in _listify(execution.get("Tasks")):
        lines.append(f"  {task.get('Name')} ({task.get('Type')}) {task.get('State')}")
        lines += _task_outputs(task)
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
        except (ValueError, MalformedXML) as exc:
            lines = [f"unreadable body ({exc}): {body[:200]!r}"]
        signature = verify(self.secret, request.headers, body) if self.secret else "not checked"
        self.console.print(f"[bold]{time.strftime('%H:%M:%S')}[/bold] signature={signature} -> {self.status}")
        for line in lines:
            self.console.print(line, markup=False)
        await Response(status_code=self.status)(scope, receive, send)
