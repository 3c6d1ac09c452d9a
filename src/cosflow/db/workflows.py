"""Workflow rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from cosflow.db.tables import workflows
from cosflow.domain.ci import Workflow


def _workflow(row: Any) -> Workflow:
    return Workflow(row.workflow_id, row.bucket, row.name, row.state, row.topology, row.created_at, row.updated_at)


def insert_workflow(conn: Connection, wf: Workflow) -> None:
    conn.execute(
        insert(workflows).values(
            workflow_id=wf.workflow_id,
            bucket=wf.bucket,
            name=wf.name,
            state=wf.state,
            topology=wf.topology_xml,
            created_at=wf.created_at,
            updated_at=wf.updated_at,
        )
    )


def update_workflow(conn: Connection, wf: Workflow) -> None:
    conn.execute(
        update(workflows)
        .where(workflows.c.workflow_id == wf.workflow_id)
        .values(name=wf.name, state=wf.state, topology=wf.topology_xml, updated_at=wf.updated_at)
    )


def get_workflow(conn: Connection, bucket: str, workflow_id: str) -> Workflow | None:
    query = select(workflows).where(workflows.c.workflow_id == workflow_id, workflows.c.bucket == bucket)
    row = conn.execute(query).first()
    return None if row is None else _workflow(row)


def active_workflows(conn: Connection, bucket: str) -> list[Workflow]:
    query = select(workflows).where(workflows.c.bucket == bucket, workflows.c.state == "Active")
    return [_workflow(r) for r in conn.execute(query.order_by(workflows.c.created_at))]


def list_workflows(
    conn: Connection, bucket: str, ids: list[str], name: str, offset: int, limit: int
) -> tuple[int, list[Workflow]]:
    where = [workflows.c.bucket == bucket]
    if ids:
        where.append(workflows.c.workflow_id.in_(ids))
    if name:
        where.append(or_(workflows.c.name == name, func.substr(workflows.c.name, 1, len(name)) == name))
    total = conn.execute(select(func.count()).select_from(workflows).where(and_(*where))).scalar_one()
    query = select(workflows).where(and_(*where)).order_by(workflows.c.created_at.desc(), workflows.c.workflow_id)
    return total, [_workflow(r) for r in conn.execute(query.offset(offset).limit(limit))]


def delete_workflow(conn: Connection, workflow_id: str) -> None:
    conn.execute(delete(workflows).where(workflows.c.workflow_id == workflow_id))
