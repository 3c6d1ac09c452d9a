"""Template rows: custom ones per bucket, Official presets shared (bucket NULL)."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from cosflow.db.conflicts import insert_absent
from cosflow.db.tables import templates
from cosflow.domain import xmldoc
from cosflow.domain.topology import Template

log = logging.getLogger(__name__)


def _template(row: Any) -> Template:
    body, problem = xmldoc.stored(row.body, row.tag)
    if problem is not None:
        log.warning("template %s: its stored body cannot be shown (%s); listed without it", row.template_id, problem)
    return Template(row.template_id, row.name, row.tag, row.category, body)


def _values(template: Template) -> dict[str, Any]:
    return {
        "name": template.name,
        "tag": template.tag,
        "category": template.category,
        "body": ET.tostring(template.body, encoding="unicode"),
    }


def insert_template(conn: Connection, template: Template, bucket: str | None, now: Any) -> None:
    conn.execute(
        insert(templates).values(
            template_id=template.template_id, bucket=bucket, created_at=now, updated_at=now, **_values(template)
        )
    )


def insert_preset(conn: Connection, template: Template, now: Any) -> None:
    """An Official (bucket-less) template, unless its id is there already: servers starting
    together on one database each seed the presets, and only one row results."""
    values = {"template_id": template.template_id, "bucket": None, "created_at": now, "updated_at": now}
    insert_absent(conn, templates, {**values, **_values(template)})


def update_template(conn: Connection, template: Template, now: Any) -> None:
    conn.execute(
        update(templates)
        .where(templates.c.template_id == template.template_id)
        .values(updated_at=now, **_values(template))
    )


def _visible(bucket: str) -> Any:
    return or_(templates.c.bucket == bucket, templates.c.bucket.is_(None))


def get_template(conn: Connection, bucket: str, template_id: str) -> tuple[Template, Any, Any] | None:
    """The template with its create and update times, if this bucket can see it."""
    row = conn.execute(select(templates).where(templates.c.template_id == template_id, _visible(bucket))).first()
    return None if row is None else (_template(row), row.created_at, row.updated_at)


def list_templates(
    conn: Connection, bucket: str, category: str, tag: str, ids: list[str], name: str, offset: int, limit: int
) -> tuple[int, list[tuple[Template, Any, Any]]]:
    where = [_visible(bucket), templates.c.category == category]
    if tag:
        where.append(templates.c.tag == tag)
    if ids:
        where.append(templates.c.template_id.in_(ids))
    if name:
        where.append(func.substr(templates.c.name, 1, len(name)) == name)
    total = conn.execute(select(func.count()).select_from(templates).where(and_(*where))).scalar_one()
    query = select(templates).where(and_(*where)).order_by(templates.c.created_at, templates.c.template_id)
    rows = conn.execute(query.offset(offset).limit(limit))
    return total, [(_template(r), r.created_at, r.updated_at) for r in rows]


def delete_template(conn: Connection, template_id: str) -> None:
    conn.execute(delete(templates).where(templates.c.template_id == template_id))
