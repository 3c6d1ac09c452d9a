"""Workflows: create/update/state/delete with validation, manual triggers, and upload triggers."""

from __future__ import annotations

import functools
import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import replace

from anyio import to_thread
from sqlalchemy import Connection, Engine

from cosflow.db import buckets as bucket_rows
from cosflow.db import objects as object_rows
from cosflow.db import templates as template_rows
from cosflow.db import workflows as workflow_rows
from cosflow.domain import fields, schemas, times
from cosflow.domain.ci import Run, Workflow
from cosflow.domain.records import StoredObject
from cosflow.domain.states import WorkflowState, parse_enum
from cosflow.domain.topology import Node, StartInput, Template, Topology, parse_topology, validate
from cosflow.domain.triggers import starts_run
from cosflow.errors import InvalidArgument, NoSuchBucket, ResourceNotFound
from cosflow.ids import workflow_id as new_workflow_id
from cosflow.media.base import MediaError, Registry
from cosflow.services.queues import ensure_defaults, queue_for
from cosflow.services.scheduler import Scheduler

log = logging.getLogger(__name__)
_NAME = re.compile(r"^[\w\-\u4e00-\u9fff]{1,128}$")


def cos_headers(obj: StoredObject) -> list[dict[str, str]]:
    """The upload's headers as CosHeaders entries: Content-Type, kept standard headers, x-cos-meta-*."""
    headers = [{"Key": "Content-Type", "Value": obj.attrs.content_type}]
    headers += [{"Key": k, "Value": v} for k, v in obj.attrs.headers.items()]
    headers += [{"Key": k, "Value": v} for k, v in sorted(obj.attrs.meta.items())]
    return headers


class WorkflowService:
    def __init__(self, engine: Engine, scheduler: Scheduler, registry: Registry, region: str = "") -> None:
        self._engine = engine
        self._scheduler = scheduler
        self._registry = registry
        self._region = region  # an Output/Region must name it (empty: not checked)

    # --- validation ----------------------------------------------------------------------------
    def _product_count(self, node: Node, template: Template | None) -> int:
        """How many objects the node yields per input; its parameters are checked on the way."""
        processor = self._registry.get(node.type)
        body = template.body if template is not None else None
        try:
            return processor.product_count(node.operation, body) if processor is not None else 1
        except MediaError as exc:
            raise InvalidArgument(f"node {node.key}: {exc.message}") from exc

    def _parse(
        self, conn: Connection, bucket: str, request: ET.Element, workflow_id: str = ""
    ) -> tuple[str, str | None, ET.Element]:
        """Check a Create/UpdateMediaWorkflow body (spec §6.2-6.3) field by field (issue 8: every
        field honoured or refused) and as a DAG; ``workflow_id`` is the one being updated."""
        body = _media_workflow(request)
        fields.check(body, schemas.WORKFLOW, "MediaWorkflow")
        given_id = (body.findtext("WorkflowId") or "").strip()
        if workflow_id and given_id and given_id != workflow_id:
            raise InvalidArgument(
                f"MediaWorkflow WorkflowId {given_id} is not the workflow being updated ({workflow_id})"
            )
        name = (body.findtext("Name") or "").strip()
        if not _NAME.match(name):
            raise InvalidArgument("workflow Name: 1-128 Chinese characters, letters, digits, '-' or '_'")
        state_text = (body.findtext("State") or "").strip()
        state = parse_enum(WorkflowState, state_text) if state_text else None
        if state_text and state is None:
            raise InvalidArgument(f"workflow State must be Active or Paused, got {state_text!r}")
        element = body.find("Topology")
        topology = parse_topology(element)
        assert element is not None
        self.check_topology(conn, bucket, topology)
        start = topology.start_input()
        ensure_defaults(conn, bucket)
        for queue_id, kind in ((start.queue_id, "media"), (start.pic_queue_id, "picture")):
            queue_for(conn, bucket, kind, queue_id)  # raises for a queue of another bucket or kind
        return name, state.value if state else None, element

    def check_topology(
        self, conn: Connection, bucket: str, topology: Topology, replaced: Template | None = None
    ) -> None:
        """Validate ``topology`` against this bucket's templates (``replaced`` standing in for the
        stored template of its id: the check of a template update), processors and buckets."""

        def template_of(template_id: str) -> Template | None:
            if replaced is not None and template_id == replaced.template_id:
                return replaced
            found = template_rows.get_template(conn, bucket, template_id)
            return None if found is None else found[0]

        validate(topology, lambda t: t in self._registry, template_of, self._product_count, self._region)
        for node in topology.task_nodes():
            target = (node.operation.findtext("Output/Bucket") or "").strip() if node.operation is not None else ""
            if target and bucket_rows.get(conn, target) is None:  # else every run would fail after its work
                raise InvalidArgument(f"node {node.key}: Output Bucket {target} does not exist", resource=target)

    # --- CRUD ------------------------------------------------------------------------------------
    async def create(self, bucket: str, request: ET.Element) -> Workflow:
        def run() -> Workflow:
            with self._engine.begin() as conn:
                self._require_bucket(conn, bucket)
                name, state, topology = self._parse(conn, bucket, request)
                now = times.now()
                workflow = Workflow(
                    new_workflow_id(),
                    bucket,
                    name,
                    state or WorkflowState.PAUSED.value,
                    ET.tostring(topology, encoding="unicode"),
                    now,
                    now,
                )
                workflow_rows.insert_workflow(conn, workflow)
                return workflow

        return await to_thread.run_sync(run)

    async def update(self, bucket: str, workflow_id: str, request: ET.Element) -> Workflow:
        def run() -> Workflow:
            with self._engine.begin() as conn:
                current = self._get(conn, bucket, workflow_id, lock=True)
                if current.state == WorkflowState.ACTIVE:
                    raise InvalidArgument(f"workflow {workflow_id} is Active: pause it before updating it")
                name, state, topology = self._parse(conn, bucket, request, workflow_id)
                workflow = replace(
                    current,
                    name=name,
                    state=state or current.state,
                    topology_xml=ET.tostring(topology, encoding="unicode"),
                    updated_at=times.now(),
                )
                workflow_rows.update_workflow(conn, workflow)
                return workflow

        return await to_thread.run_sync(run)

    async def set_state(self, bucket: str, workflow_id: str, state: WorkflowState) -> Workflow:
        def run() -> Workflow:
            with self._engine.begin() as conn:
                current = self._get(conn, bucket, workflow_id, lock=True)
                workflow = replace(current, state=state.value, updated_at=times.now())
                workflow_rows.update_workflow(conn, workflow)
                return workflow

        return await to_thread.run_sync(run)

    async def delete(self, bucket: str, workflow_id: str) -> None:
        def run() -> None:
            with self._engine.begin() as conn:
                current = self._get(conn, bucket, workflow_id, lock=True)
                if current.state == WorkflowState.ACTIVE:
                    raise InvalidArgument(f"workflow {workflow_id} is Active: pause it before deleting it")
                workflow_rows.delete_workflow(conn, workflow_id)

        await to_thread.run_sync(run)

    async def get(self, bucket: str, workflow_id: str) -> Workflow:
        def run() -> Workflow:
            with self._engine.connect() as conn:
                return self._get(conn, bucket, workflow_id)

        return await to_thread.run_sync(run)

    async def list(
        self, bucket: str, ids: list[str], name: str, page: int, size: int
    ) -> tuple[int, list[Workflow], list[str]]:
        def run() -> tuple[int, list[Workflow], list[str]]:
            with self._engine.connect() as conn:
                total, items = workflow_rows.list_workflows(conn, bucket, ids, name, (page - 1) * size, size)
                missing = [i for i in ids if workflow_rows.get_workflow(conn, bucket, i) is None]
                return total, items, missing

        return await to_thread.run_sync(run)

    @staticmethod
    def _require_bucket(conn: Connection, bucket: str) -> None:
        if bucket_rows.get(conn, bucket) is None:
            raise NoSuchBucket(resource=bucket)

    @staticmethod
    def _get(conn: Connection, bucket: str, workflow_id: str, *, lock: bool = False) -> Workflow:
        workflow = workflow_rows.get_workflow(conn, bucket, workflow_id, lock=lock)
        if workflow is None:
            raise InvalidArgument(f"workflow {workflow_id} does not exist in bucket {bucket}")
        return workflow

    # --- triggers --------------------------------------------------------------------------------
    async def trigger(self, bucket: str, workflow_id: str, key: str) -> Run:
        """TriggerWorkflow: any state, any existing object."""

        def run() -> Run:
            with self._engine.begin() as conn:
                workflow = self._get(conn, bucket, workflow_id)
                obj = object_rows.get(conn, bucket, key)
                if obj is None:
                    raise ResourceNotFound(f"object {key!r} does not exist in bucket {bucket}")
                return self._scheduler.start_run(conn, workflow, bucket, key, cos_headers(obj))

        started = await to_thread.run_sync(run)
        self._scheduler.wake()
        return started

    def on_object_written(self, conn: Connection, obj: StoredObject) -> int:
        """Called inside the upload's transaction: one run per Active workflow whose Start input
        takes the key (ObjectPrefix rooted at ``/``, then ExtFilter: :mod:`cosflow.domain.triggers`)."""
        started = 0
        for workflow in workflow_rows.active_workflows(conn, obj.bucket):
            start = _start_input(workflow.topology_xml)
            if starts_run(start, obj.key, obj.attrs.content_type):
                self._scheduler.start_run(conn, workflow, obj.bucket, obj.key, cos_headers(obj))
                started += 1
        return started

    def after_commit(self) -> None:
        self._scheduler.wake()


def _media_workflow(request: ET.Element) -> ET.Element:
    """``<MediaWorkflow>``, bare or inside ``<Request>`` (which holds nothing else)."""
    if request.tag == "MediaWorkflow":
        return request
    body = request.find("MediaWorkflow")
    if body is None:
        raise InvalidArgument("the body needs a <MediaWorkflow> element")
    others = [child.tag for child in request if child.tag != "MediaWorkflow" and isinstance(child.tag, str)]
    if others:
        raise InvalidArgument(f"Request/{others[0]} is unknown: the request holds only MediaWorkflow")
    if len(request.findall("MediaWorkflow")) > 1:
        raise InvalidArgument("Request/MediaWorkflow is given more than once")
    return body


@functools.lru_cache(maxsize=1024)
def _start_input(topology_xml: str) -> StartInput:
    """The trigger part (prefix, ExtFilter, queues) of a stored topology. Every upload checks every
    Active workflow of its bucket, so the parse is kept, keyed by the XML itself: an updated
    workflow has new XML and so a new entry."""
    return parse_topology(ET.fromstring(topology_xml)).start_input()
