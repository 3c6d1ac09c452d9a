"""Workflow runs (instances) and their tasks: the DAG's state lives here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from cosflow.db.tables import runs, tasks
from cosflow.domain.ci import Run, RunFilter, Task


def _run(row: Any) -> Run:
    return Run(
        row.run_id,
        row.workflow_id,
        row.workflow_name,
        row.bucket,
        row.object_key,
        list(row.cos_headers),
        row.topology,
        row.state,
        row.code,
        row.message,
        row.created_at,
        row.finished_at,
        row.batch_job_id or "",
    )


def _task(row: Any) -> Task:
    return Task(
        row.job_id,
        row.run_id,
        row.node_key,
        row.node_type,
        row.queue_id,
        row.state,
        list(row.inputs),
        row.result,
        row.template_id,
        row.template_name,
        row.code,
        row.message,
        row.progress,
        row.attempts,
        row.created_at,
        row.started_at,
        row.ended_at,
    )


def insert_run(conn: Connection, run: Run) -> None:
    conn.execute(
        insert(runs).values(
            run_id=run.run_id,
            workflow_id=run.workflow_id,
            workflow_name=run.workflow_name,
            bucket=run.bucket,
            object_key=run.object_key,
            cos_headers=run.cos_headers,
            topology=run.topology_xml,
            state=run.state,
            code=run.code,
            message=run.message,
            created_at=run.created_at,
            finished_at=run.finished_at,
            batch_job_id=run.batch_job_id or None,
        )
    )


def insert_task(conn: Connection, task: Task) -> None:
    values = {name: getattr(task, name) for name in Task.__dataclass_fields__}
    conn.execute(insert(tasks).values(**values))


def get_run(conn: Connection, run_id: str) -> Run | None:
    row = conn.execute(select(runs).where(runs.c.run_id == run_id)).first()
    return None if row is None else _run(row)


def lock_run(conn: Connection, run_id: str) -> bool:
    """Hold the run's row (``FOR UPDATE``) to the end of the transaction; whether it exists.

    Every transaction that moves a run's tasks on takes it first, so two parents of one node
    finishing together are serialised: the second sees the first's success and creates the
    successor, exactly once (a READ COMMITTED snapshot alone would let both miss it, or both
    create it). SQLite's write lock gives the same order. ``FOR NO KEY UPDATE``: a task row
    inserted for the run (its foreign key takes a key-share lock) does not conflict with it."""
    query = select(runs.c.run_id).where(runs.c.run_id == run_id).with_for_update(key_share=True)
    return conn.execute(query).first() is not None


def get_task(conn: Connection, job_id: str) -> Task | None:
    row = conn.execute(select(tasks).where(tasks.c.job_id == job_id)).first()
    return None if row is None else _task(row)


def run_tasks(conn: Connection, run_id: str) -> list[Task]:
    query = select(tasks).where(tasks.c.run_id == run_id).order_by(tasks.c.created_at, tasks.c.job_id)
    return [_task(r) for r in conn.execute(query)]


def set_task(conn: Connection, job_id: str, expect: Sequence[str], **values: Any) -> bool:
    """Compare-and-set: change the task only if its state is one of ``expect``."""
    result = conn.execute(
        update(tasks).where(tasks.c.job_id == job_id, tasks.c.state.in_(list(expect))).values(**values)
    )
    return result.rowcount == 1


def finish_run(conn: Connection, run_id: str, state: str, code: str, message: str, at: datetime) -> None:
    conn.execute(
        update(runs)
        .where(runs.c.run_id == run_id, runs.c.state == "Running")
        .values(state=state, code=code, message=message, finished_at=at)
    )


def running_counts(conn: Connection, queue_ids: Sequence[str]) -> dict[str, int]:
    query = (
        select(tasks.c.queue_id, func.count())
        .where(tasks.c.state == "Running", tasks.c.queue_id.in_(list(queue_ids)))
        .group_by(tasks.c.queue_id)
    )
    return {queue_id: count for queue_id, count in conn.execute(query)}


def submitted(conn: Connection, queue_id: str, limit: int) -> list[str]:
    """The first ``limit`` waiting tasks of the queue, oldest first, locked for this transaction
    (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: a row another transaction is changing is passed
    over, not waited for; SQLite's write lock already excludes everyone else)."""
    query = (
        select(tasks.c.job_id)
        .where(tasks.c.queue_id == queue_id, tasks.c.state == "Submitted")
        .order_by(tasks.c.created_at, tasks.c.job_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(conn.execute(query).scalars())


def start_tasks(conn: Connection, job_ids: Sequence[str], now: datetime) -> list[str]:
    """Submitted -> Running, counting the attempt; keeps the first StartTime of a re-run task.
    Returns the ids this statement moved (``UPDATE … RETURNING``), never one somebody else did."""
    if not job_ids:
        return []
    query = (
        update(tasks)
        .where(tasks.c.job_id.in_(list(job_ids)), tasks.c.state == "Submitted")
        .values(state="Running", attempts=tasks.c.attempts + 1, started_at=func.coalesce(tasks.c.started_at, now))
        .returning(tasks.c.job_id)
    )
    moved = set(conn.execute(query).scalars())
    return [job_id for job_id in job_ids if job_id in moved]


def move_queue_tasks(conn: Connection, queue_id: str, from_state: str, to_state: str) -> int:
    query = update(tasks).where(tasks.c.queue_id == queue_id, tasks.c.state == from_state).values(state=to_state)
    return conn.execute(query).rowcount


def requeue_running(conn: Connection) -> list[str]:
    """Tasks left Running by a process that died: back to Submitted (their outputs are idempotent)."""
    stale = list(conn.execute(select(tasks.c.job_id).where(tasks.c.state == "Running")).scalars())
    if stale:
        conn.execute(update(tasks).where(tasks.c.job_id.in_(stale)).values(state="Submitted", progress=0))
    return stale


def list_runs(conn: Connection, workflow_id: str, wanted: RunFilter, *, offset: int, limit: int) -> list[Run]:
    """One page of a workflow's runs; every field of ``wanted`` narrows the result (none is ignored)."""
    where = [runs.c.workflow_id == workflow_id]
    if wanted.batch_job_id:
        where.append(runs.c.batch_job_id == wanted.batch_job_id)
    if wanted.name:
        where.append(runs.c.object_key == wanted.name)
    if wanted.states:
        where.append(runs.c.state.in_(list(wanted.states)))
    if wanted.start is not None:
        where.append(runs.c.created_at >= wanted.start)
    if wanted.end is not None:
        where.append(runs.c.created_at <= wanted.end)
    order = (
        (runs.c.created_at.asc(), runs.c.run_id.asc())
        if wanted.ascending
        else (runs.c.created_at.desc(), runs.c.run_id.desc())
    )
    query = select(runs).where(and_(*where)).order_by(*order).offset(offset).limit(limit)
    return [_run(r) for r in conn.execute(query)]
