"""Templates: custom per bucket, plus read-only Official presets."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import datetime

from anyio import to_thread
from sqlalchemy import Engine

from cosflow.db import templates as template_rows
from cosflow.domain import times
from cosflow.domain.topology import Template
from cosflow.errors import InvalidArgument
from cosflow.ids import template_id as new_template_id

#: Tags cosflow stores templates for (spec §10.1). Which of them a workflow may use depends on
#: the processors present (checked when a workflow is created).
TAGS = frozenset(
    "Transcode Snapshot Animation SmartCover PicProcess Watermark Concat VoiceSeparate VideoMontage "
    "VideoProcess SuperResolution".split()
)
_NAME = re.compile(r"^[\w\-*\u4e00-\u9fff]{1,64}$")

Stored = tuple[Template, datetime, datetime]


def parse_request(request: ET.Element, template_id: str, category: str = "Custom") -> Template:
    tag = (request.findtext("Tag") or "").strip()
    if tag not in TAGS:
        raise InvalidArgument(f"template Tag must be one of {', '.join(sorted(TAGS))}, got {tag!r}")
    name = (request.findtext("Name") or "").strip()
    if not _NAME.match(name):
        raise InvalidArgument("template Name: 1-64 Chinese characters, letters, digits, '_', '-' or '*'")
    body = ET.Element(tag)
    body.extend(child for child in request if child.tag not in ("Tag", "Name"))
    if not len(body):
        raise InvalidArgument(f"a {tag} template needs its parameters (e.g. <{tag}> or <Container>)")
    return Template(template_id, name, tag, category, body)


class TemplateService:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def get(self, bucket: str, template_id: str) -> Stored:
        def run() -> Stored:
            with self._engine.connect() as conn:
                found = template_rows.get_template(conn, bucket, template_id)
            if found is None:
                raise InvalidArgument(f"template {template_id} does not exist")
            return found

        return await to_thread.run_sync(run)

    async def create(self, bucket: str, request: ET.Element) -> Stored:
        template = parse_request(request, new_template_id())
        now = times.now()

        def run() -> None:
            with self._engine.begin() as conn:
                template_rows.insert_template(conn, template, bucket, now)

        await to_thread.run_sync(run)
        return template, now, now

    async def update(self, bucket: str, template_id: str, request: ET.Element) -> Stored:
        existing, created, _ = await self.get(bucket, template_id)
        if existing.category != "Custom":
            raise InvalidArgument(f"template {template_id} is an Official preset and cannot be changed")
        template = parse_request(request, template_id)
        if template.tag != existing.tag:
            raise InvalidArgument(f"template {template_id} has Tag {existing.tag}; its Tag cannot change")
        now = times.now()

        def run() -> None:
            with self._engine.begin() as conn:
                template_rows.update_template(conn, template, now)

        await to_thread.run_sync(run)
        return template, created, now

    async def delete(self, bucket: str, template_id: str) -> None:
        existing, _, _ = await self.get(bucket, template_id)
        if existing.category != "Custom":
            raise InvalidArgument(f"template {template_id} is an Official preset and cannot be deleted")

        def run() -> None:
            with self._engine.begin() as conn:
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


def seed_presets(engine: Engine, presets: Iterable[tuple[str, str, str, str]]) -> None:
    """Write the Official templates (id, name, tag, body XML) so ids are stable across restarts;
    a preset whose definition changed is refreshed (its UpdateTime then moves), others are left."""
    now = times.now()
    with engine.begin() as conn:
        for template_id, name, tag, body_xml in presets:
            template = Template(template_id, name, tag, "Official", ET.fromstring(body_xml))
            found = template_rows.get_template(conn, "", template_id)
            if found is None:
                template_rows.insert_template(conn, template, None, now)
            elif _definition(found[0]) != _definition(template):
                template_rows.update_template(conn, template, now)


def _definition(template: Template) -> tuple[str, str, bytes]:
    return template.name, template.tag, ET.tostring(template.body)
