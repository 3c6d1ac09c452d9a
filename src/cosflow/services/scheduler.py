"""The DAG engine. Run and task state lives in SQL; every transition is one transaction.

A node gets a task when all its parents succeeded (Start's successors at once). Its input is its
parents' outputs, or the uploaded object for Start's successors. A failed task's descendants never
run; a run is final when no task is pending or running, Success only if every node succeeded.
Work leaves here as task ids only (:meth:`Scheduler.claim`), so any executor can carry it.
"""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from sqlalchemy import Connection, Engine

from cosflow.db import queues as queue_rows
from cosflow.db import runs as run_rows
from cosflow.db import templates as template_rows
from cosflow.domain import times
from cosflow.domain.ci import Queue, Run, Task, Workflow
from cosflow.domain.states import QueueState, RunState, TaskState
from cosflow.domain.topology import Node, StartInput, Topology, parse_topology
from cosflow.ids import job_id as new_job_id
from cosflow.ids import run_id as new_run_id
from cosflow.services.callbacks import CallbackRecorder
from cosflow.services.queues import queue_for

log = logging.getLogger(__name__)

#: Node types that run on the bucket's picture queue rather than its media queue.
PICTURE_TYPES = frozenset({"PicProcess", "ImageInspect"})


class Wakeup:
    """Thread-safe nudge for the background loops (task dispatch, callback delivery)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._events: list[asyncio.Event] = []

    def bind(self) -> asyncio.Event:
        self._loop = asyncio.get_running_loop()
        event = asyncio.Event()
        self._events.append(event)
        return event

    def _set_all(self) -> None:
        for event in self._events:
            event.set()

    def __call__(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._set_all)


@dataclass(frozen=True)
class RunContext:
    run: Run
    topology: Topology
    queues: dict[str, Queue]


def _topology(run: Run) -> Topology:
    return parse_topology(ET.fromstring(run.topology_xml))


def _queues(conn: Connection, bucket: str, start: StartInput) -> dict[str, Queue]:
    """The media and picture queues a run's tasks go to (named on Start, else the defaults)."""
    return {
        "media": queue_for(conn, bucket, "media", start.queue_id),
        "picture": queue_for(conn, bucket, "picture", start.pic_queue_id),
    }


class Scheduler:
    def __init__(self, engine: Engine, wake: Callable[[], None], events: CallbackRecorder) -> None:
        self._engine = engine
        self.wake = wake
        self._callbacks = events

    # --- creating runs (inside the caller's transaction) ----------------------------------------
    def start_run(
        self, conn: Connection, workflow: Workflow, bucket: str, key: str, cos_headers: list[dict[str, str]]
    ) -> Run:
        topology = parse_topology(workflow.topology_element)
        start = topology.start_input()
        queues = _queues(conn, bucket, start)
        run = Run(
            new_run_id(),
            workflow.workflow_id,
            workflow.name,
            bucket,
            key,
            cos_headers,
            workflow.topology_xml,
            RunState.RUNNING,
            "",
            "",
            times.now(),
            None,
        )
        run_rows.insert_run(conn, run)
        context = RunContext(run, topology, queues)
        self._callbacks.workflow_event(conn, "WorkflowStart", run.run_id, topology, queues["media"])
        for node in topology.task_nodes():
            if not topology.parents(node.key):
                self._create_task(conn, context, node, [[bucket, key]])
        log.info("run started", extra={"action": "run_start", "run_id": run.run_id, "workflow": workflow.workflow_id})
        return run

    def _create_task(self, conn: Connection, context: RunContext, node: Node, inputs: list[list[str]]) -> Task:
        queue = context.queues["picture" if node.type in PICTURE_TYPES else "media"]
        state = TaskState.SUBMITTED if queue.state == QueueState.ACTIVE else TaskState.PAUSE
        template_name = ""
        if node.template_id:
            found = template_rows.get_template(conn, context.run.bucket, node.template_id)
            template_name = found[0].name if found else ""
        task = Task(
            new_job_id(),
            context.run.run_id,
            node.key,
            node.type,
            queue.queue_id,
            state,
            inputs,
            None,
            node.template_id,
            template_name,
            "",
            "",
            0,
            0,
            times.now(),
            None,
            None,
        )
        run_rows.insert_task(conn, task)
        return task

    # --- dispatching ---------------------------------------------------------------------------
    def _claim(self, limit: int) -> list[str]:
        claimed: list[str] = []
        with self._engine.begin() as conn:
            active = queue_rows.lock_active_queues(conn)  # counted only after their claims are ours
            running = run_rows.running_counts(conn, [q.queue_id for q in active])
            for queue in active:
                room = min(queue.max_concurrent - running.get(queue.queue_id, 0), limit - len(claimed))
                if room <= 0:
                    continue
                claimed += run_rows.start_tasks(conn, run_rows.submitted(conn, queue.queue_id, room), times.now())
        return claimed

    async def claim(self, limit: int) -> list[str]:
        """Mark up to ``limit`` waiting tasks Running, within each queue's MaxConcurrent; their ids."""
        return await to_thread.run_sync(self._claim, limit)

    def recover(self) -> list[str]:
        """At start: tasks a dead process left Running go back in line (outputs are idempotent)."""
        with self._engine.begin() as conn:
            stale = run_rows.requeue_running(conn)
            for queue in queue_rows.all_queues(conn):
                if queue.state == QueueState.PAUSED:
                    run_rows.move_queue_tasks(conn, queue.queue_id, TaskState.SUBMITTED, TaskState.PAUSE)
        if stale:
            log.warning("requeued tasks left running by a previous process", extra={"count": len(stale)})
        return stale

    # --- finishing tasks -----------------------------------------------------------------------
    def load(self, conn: Connection, run_id: str) -> RunContext:
        run = run_rows.get_run(conn, run_id)
        assert run is not None, run_id
        topology = _topology(run)
        return RunContext(run, topology, _queues(conn, run.bucket, topology.start_input()))

    @staticmethod
    def _locked_task(conn: Connection, job_id: str) -> Task | None:
        """The task, with its run's row locked first (:func:`run_rows.lock_run`): every change to
        a run's tasks, its callbacks' sequence numbers and its final state is made under that
        lock, in the order run, then task, so two transactions never wait on each other in a
        cycle."""
        task = run_rows.get_task(conn, job_id)
        if task is None or not run_rows.lock_run(conn, task.run_id):
            return None
        return task

    def task_succeeded(self, job_id: str, result: dict[str, Any]) -> None:
        with self._engine.begin() as conn:
            task = self._locked_task(conn, job_id)
            if task is None or not run_rows.set_task(
                conn,
                job_id,
                [TaskState.RUNNING],
                state=TaskState.SUCCESS,
                result=result,
                progress=100,
                code="Success",
                ended_at=times.now(),
            ):
                return  # already final (a duplicate delivery): nothing to advance
            context = self.load(conn, task.run_id)
            self._callbacks.task_finished(conn, task, context.topology, context.queues["media"])
            self._advance(conn, context, task.node_key)
            self._maybe_finish(conn, context)
        self.wake()

    def task_failed(self, job_id: str, code: str, message: str) -> None:
        with self._engine.begin() as conn:
            task = self._locked_task(conn, job_id)
            if task is None or not run_rows.set_task(
                conn,
                job_id,
                [TaskState.RUNNING, TaskState.SUBMITTED, TaskState.PAUSE],
                state=TaskState.FAILED,
                code=code,
                message=message[:2000],
                ended_at=times.now(),
            ):
                return
            context = self.load(conn, task.run_id)
            self._callbacks.task_finished(conn, task, context.topology, context.queues["media"])
            self._maybe_finish(conn, context)
        self.wake()

    def _advance(self, conn: Connection, context: RunContext, node_key: str) -> None:
        tasks = {t.node_key: t for t in run_rows.run_tasks(conn, context.run.run_id)}
        for successor in context.topology.successors.get(node_key, ()):
            if successor in tasks:
                continue
            parents = context.topology.parents(successor)
            if all(tasks.get(p) is not None and tasks[p].state == TaskState.SUCCESS for p in parents):
                inputs = (
                    [[context.run.bucket, context.run.object_key]]
                    if context.topology.has_start_parent(successor)
                    else []
                )
                for parent in parents:
                    inputs += [[o["bucket"], o["key"]] for o in (tasks[parent].result or {}).get("objects", [])]
                self._create_task(conn, context, context.topology.nodes[successor], inputs)

    def _maybe_finish(self, conn: Connection, context: RunContext) -> None:
        tasks = run_rows.run_tasks(conn, context.run.run_id)
        if any(not TaskState(t.state).final for t in tasks):
            return
        failed = [t for t in tasks if t.state == TaskState.FAILED]
        done = {t.node_key for t in tasks if t.state == TaskState.SUCCESS}
        if not failed and len(done) < len(context.topology.task_nodes()):
            return  # successors are about to be created by _advance
        state, code, message = RunState.SUCCESS, "Success", ""
        if failed:
            first = min(failed, key=lambda t: t.ended_at or times.now())
            state, code, message = RunState.FAILED, first.code, f"task {first.node_key} failed: {first.message}"
        run_rows.finish_run(conn, context.run.run_id, state, code, message, times.now())
        self._callbacks.workflow_event(
            conn, "WorkflowFinish", context.run.run_id, context.topology, context.queues["media"]
        )
        log.info("run finished", extra={"action": "run_finish", "run_id": context.run.run_id, "state": state})
