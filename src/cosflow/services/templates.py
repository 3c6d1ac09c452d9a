"""Templates: custom per bucket, plus read-only Official presets.

A template is checked field by field (:data:`cosflow.domain.schemas.TEMPLATES`) and then by the
processors that would read it, with the ranges a workflow is checked against (issue 8 §3.4); an
update or delete that would break a workflow using the template is refused.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import datetime

from anyio import to_thread
from sqlalchemy import Connection, Engine

from cosflow.db import templates as template_rows
from cosflow.db import workflows as workflow_rows
from cosflow.domain import fields, schemas, times
from cosflow.domain.ci import Workflow
from cosflow.domain.topology import TEMPLATE_TAGS, Template, parse_topology
from cosflow.errors import InvalidArgument
from cosflow.ids import template_id as new_template_id
from cosflow.media.base import MediaError, Registry
from cosflow.services.workflows import WorkflowService

_NAME = re.compile(r"^[\w\-*\u4e00-\u9fff]{1,64}$")
#: Workflows of one bucket looked at when a template changes (far above real use).
_MAX_WORKFLOWS = 100_000

Stored = tuple[Template, datetime, datetime]


def parse_request(request: ET.Element, template_id: str, *, updating: bool = False) -> Template:
    """A Create/UpdateMediaTemplate body (spec §10.1) checked field by field; the stored body is an
    element named after the Tag holding the request's parameters (response-only fields dropped).

    A template of a GET answer is a valid body: its response container (``TransTpl``, see
    :data:`~cosflow.domain.schemas.RESPONSE_CONTAINERS`) is opened, identity, time and Category
    ignored. Raises :class:`InvalidArgument` naming the first field not honoured."""
    tag = (request.findtext("Tag") or "").strip()
    schema = schemas.TEMPLATES.get(tag)
    if schema is None:
        if tag in schemas.TENCENT_TAGS:
            raise InvalidArgument(f"template Tag {tag} is not supported by cosflow (no node of this server uses it)")
        raise InvalidArgument(f"template Tag must be one of {', '.join(sorted(schemas.TEMPLATES))}, got {tag!r}")
    request = _opened(request, schemas.RESPONSE_CONTAINERS.get(tag, ()))
    fields.check(request, schema, "template")
    name = (request.findtext("Name") or "").strip()
    if not _NAME.match(name):
        raise InvalidArgument("template Name: 1-64 Chinese characters, letters, digits, '_', '-' or '*'")
    given_id = (request.findtext("TemplateId") or "").strip()
    if updating and given_id and given_id != template_id:
        raise InvalidArgument(f"template TemplateId {given_id} is not the template being updated ({template_id})")
    body = ET.Element(tag)
    body.extend(child for child in request if child.tag not in schema.fields)  # Tag, Name, response fields
    if not len(body):
        raise InvalidArgument(f"{schema.name} needs its parameters (e.g. <{tag}> or <Container>)")
    return Template(template_id, name, tag, "Custom", body)


def _opened(request: ET.Element, containers: tuple[str, ...]) -> ET.Element:
    """``request`` with each child named in ``containers`` replaced by that child's own children (a
    parameter given both inside and outside then counts as given twice)."""
    if not any(child.tag in containers for child in request):
        return request
    opened = ET.Element(request.tag)
    for child in request:
        opened.extend(list(child) if child.tag in containers else [child])
    return opened


class TemplateService:
    def __init__(self, engine: Engine, registry: Registry, workflows: WorkflowService) -> None:
        self._engine = engine
        self._registry = registry
        self._workflows = workflows

    def _check_values(self, template: Template) -> None:
        """The processors that read this Tag check its values, with the ranges a workflow gets."""
        for node_type, (tag, _) in TEMPLATE_TAGS.items():
            if tag != template.tag or node_type not in self._registry:
                continue
            try:
                self._registry[node_type].product_count(None, template.body)
            except MediaError as exc:
                raise InvalidArgument(f"template: {exc.message}") from exc

    async def get(self, bucket: str, template_id: str) -> Stored:
        def run() -> Stored:
            with self._engine.connect() as conn:
                return _get(conn, bucket, template_id)

        return await to_thread.run_sync(run)

    async def create(self, bucket: str, request: ET.Element) -> Stored:
        template = parse_request(request, new_template_id())
        self._check_values(template)
        now = times.now()

        def run() -> None:
            with self._engine.begin() as conn:
                template_rows.insert_template(conn, template, bucket, now)

        await to_thread.run_sync(run)
        return template, now, now

    async def update(self, bucket: str, template_id: str, request: ET.Element) -> Stored:
        def run() -> Stored:
            with self._engine.begin() as conn:
                existing, created, _ = _get(conn, bucket, template_id)
                if existing.category != "Custom":
                    raise InvalidArgument(f"template {template_id} is an Official preset and cannot be changed")
                template = parse_request(request, template_id, updating=True)
                if template.tag != existing.tag:
                    raise InvalidArgument(f"template {template_id} has Tag {existing.tag}; its Tag cannot change")
                self._check_values(template)
                self._check_users(conn, bucket, existing, template)
                now = times.now()
                template_rows.update_template(conn, template, now)
                return template, created, now

        return await to_thread.run_sync(run)

    def _check_users(self, conn: Connection, bucket: str, existing: Template, template: Template) -> None:
        """Refuse an update that would make a workflow using the template invalid (one that was
        valid with the stored template): e.g. a Snapshot Count raised where the node's
        Output/Object has no ${Number}."""
        for workflow in _users(conn, bucket, existing.template_id):
            topology = parse_topology(workflow.topology_element)
            try:
                self._workflows.check_topology(conn, bucket, topology)
            except InvalidArgument:
                continue  # already invalid with the stored template: not this update's doing
            try:
                self._workflows.check_topology(conn, bucket, topology, replaced=template)
            except InvalidArgument as exc:
                raise InvalidArgument(
                    f"template {template.template_id} cannot be changed so: workflow {workflow.workflow_id} "
                    f"({workflow.state}) uses it and would become invalid: {exc.message}"
                ) from exc

    async def delete(self, bucket: str, template_id: str) -> None:
        def run() -> None:
            with self._engine.begin() as conn:
                existing, _, _ = _get(conn, bucket, template_id)
                if existing.category != "Custom":
                    raise InvalidArgument(f"template {template_id} is an Official preset and cannot be deleted")
                users = _users(conn, bucket, template_id)
                if users:
                    raise InvalidArgument(
                        f"template {template_id} is used by workflow {users[0].workflow_id}: change or delete "
                        "that workflow first"
                    )
                template_rows.delete_template(conn, template_id)

        await to_thread.run_sync(run)

    async def list(
        self, bucket: str, category: str, tag: str, ids: list[str], name: str, page: int, size: int
    ) -> tuple[int, list[Stored]]:
        if category not in ("Custom", "Official"):
            raise InvalidArgument("category must be Custom or Official")

        def run() -> tuple[int, list[Stored]]:
            with self._engine.connect() as conn:
                return template_rows.list_templates(conn, bucket, category, tag, ids, name, (page - 1) * size, size)

        return await to_thread.run_sync(run)


def _get(conn: Connection, bucket: str, template_id: str) -> Stored:
    found = template_rows.get_template(conn, bucket, template_id)
    if found is None:
        raise InvalidArgument(f"template {template_id} does not exist")
    return found


def _users(conn: Connection, bucket: str, template_id: str) -> list[Workflow]:
    """The bucket's workflows with a node whose TemplateId is ``template_id``."""
    _, candidates = workflow_rows.list_workflows(conn, bucket, [], "", 0, _MAX_WORKFLOWS)
    return [
        w
        for w in candidates
        if template_id in w.topology_xml
        and any(n.template_id == template_id for n in parse_topology(w.topology_element).task_nodes())
    ]


def seed_presets(engine: Engine, presets: Iterable[tuple[str, str, str, str]]) -> None:
    """Write the Official templates (id, name, tag, body XML) so ids are stable across restarts;
    a preset whose definition changed is refreshed (its UpdateTime then moves), others are left."""
    now = times.now()
    with engine.begin() as conn:
        for template_id, name, tag, body_xml in presets:
            template = Template(template_id, name, tag, "Official", ET.fromstring(body_xml))
            found = template_rows.get_template(conn, "", template_id)
            if found is None:
                template_rows.insert_preset(conn, template, now)
            elif _definition(found[0]) != _definition(template):
                template_rows.update_template(conn, template, now)


def _definition(template: Template) -> tuple[str, str, bytes]:
    return template.name, template.tag, ET.tostring(template.body)
