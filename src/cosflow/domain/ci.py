"""Values of the CI side: workflows, queues, runs (instances) and their tasks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cosflow.domain import xmldoc
from cosflow.domain.notify import NotifyConfig


@dataclass(frozen=True)
class Workflow:
    workflow_id: str
    bucket: str
    name: str
    state: str
    topology_xml: str
    created_at: datetime
    updated_at: datetime

    @property
    def topology_element(self) -> ET.Element:
        """Our own stored XML, parsed when it was received; an empty ``<Topology/>`` for a row the
        XML bounds refuse today (stored by an older version or by hand): it is listed without its
        topology, and triggering it is InvalidArgument (``xmldoc.stored``)."""
        return xmldoc.stored(self.topology_xml, "Topology")[0]


@dataclass(frozen=True)
class Queue:
    queue_id: str
    bucket: str
    kind: str  # "media" | "picture"
    name: str
    state: str
    max_size: int
    max_concurrent: int
    notify_xml: str | None
    created_at: datetime
    updated_at: datetime
    notify: NotifyConfig | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RunFilter:
    """Which runs of a workflow the executions list shows, and in what order."""

    name: str = ""  # the object key; empty = any
    states: tuple[str, ...] = ()  # empty = any
    start: datetime | None = None
    end: datetime | None = None
    ascending: bool = False
    #: only runs started by this batch (inventory trigger) job; empty = runs of any origin
    batch_job_id: str = ""


@dataclass(frozen=True)
class Run:
    run_id: str
    workflow_id: str
    workflow_name: str
    bucket: str
    object_key: str
    cos_headers: list[dict[str, str]]
    topology_xml: str
    state: str
    code: str
    message: str
    created_at: datetime
    finished_at: datetime | None
    #: the batch (inventory trigger) job that started the run; "" for upload and manual triggers
    batch_job_id: str = ""


@dataclass(frozen=True)
class Task:
    job_id: str
    run_id: str
    node_key: str
    node_type: str
    queue_id: str
    state: str
    inputs: list[list[str]]  # [bucket, key] per input, in parent order
    result: dict[str, Any] | None
    template_id: str
    template_name: str
    code: str
    message: str
    progress: int
    attempts: int
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
