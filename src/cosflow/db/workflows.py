"""Workflow rows."""

from __future__ import annotations

import functools
import logging
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from cosflow.db.tables import workflows
from cosflow.domain import xmldoc
from cosflow.domain.ci import Workflow

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1024)
def _problem(topology_xml: str) -> str | None:
    """Why a stored topology is unreadable, or None (kept: every upload reads the Active ones)."""
    return xmldoc.stored(topology_xml, "Topology")[1]


def _readable(row: Any) -> bool:
    """Whether the row's stored topology is one the XML rules accept today; logged when it is not.
    Such a row is still read and written back unchanged: ``Workflow.topology_element`` shows it
    as an empty topology, which nothing can run."""
    problem = _problem(row.topology)
    if problem is not None:
        log.warning("workflow %s: its stored topology cannot be used (%s); shown without it", row.workflow_id, problem)
    return problem is None


def _workflow(row: Any) -> Workflow:
    _readable(row)
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


def get_workflow(conn: Connection, bucket: str, workflow_id: str, *, lock: bool = False) -> Workflow | None:
    """The workflow, or None; ``lock`` holds its row to the end of the transaction (update and
    delete check its state, then write)."""
    query = select(workflows).where(workflows.c.workflow_id == workflow_id, workflows.c.bucket == bucket)
    row = conn.execute(query.with_for_update() if lock else query).first()
    return None if row is None else _workflow(row)


def active_workflows(conn: Connection, bucket: str) -> list[Workflow]:
    query = select(workflows).where(workflows.c.bucket == bucket, workflows.c.state == "Active")
    rows = conn.execute(query.order_by(workflows.c.created_at))
    return [_workflow(r) for r in rows if _problem(r.topology) is None]  # an unreadable one starts nothing


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
