"""Callbacks: written to the outbox in the transaction of the state change that causes them, and
read back for the delivery log (list, show, redeliver)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, Engine

from cosflow.db import callbacks as callback_rows
from cosflow.db import runs as run_rows
from cosflow.domain import callbacks as bodies
from cosflow.domain import times
from cosflow.domain.ci import Queue, Run, Task
from cosflow.domain.deliveries import Attempt, Callback
from cosflow.domain.notify import NotifyConfig
from cosflow.domain.topology import Topology
from cosflow.errors import InvalidArgument
from cosflow.settings import Settings


class CallbackRecorder:
    """Called by the scheduler inside its transactions."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @staticmethod
    def notify_config(topology: Topology, queue: Queue | None) -> NotifyConfig | None:
        """The workflow's NotifyConfig, else its queue's (spec §5.3)."""
        own = topology.start_input().notify
        return own if own is not None else (queue.notify if queue is not None else None)

    def _add(
        self, conn: Connection, notify: NotifyConfig, run: Run, event: str, payload: dict, job_id: str = ""
    ) -> None:
        body, content_type = bodies.render(payload, notify.result_format)
        now = times.now()
        callback = Callback(
            callback_id="msg_" + uuid.uuid4().hex,
            run_id=run.run_id,
            seq=callback_rows.next_seq(conn, run.run_id),
            event=event,
            job_id=job_id,
            url=notify.url,
            content_type=content_type,
            body=body.decode(),
            secret=notify.signing_secret or self._settings.callback_secret,
            state="pending",
            attempts=0,
            next_attempt_at=now,
            last_error="",
            created_at=now,
            delivered_at=None,
        )
        callback_rows.add(conn, callback)

    def workflow_event(
        self, conn: Connection, event: str, run_id: str, topology: Topology, queue: Queue | None
    ) -> None:
        notify = self.notify_config(topology, queue)
        if notify is None or not notify.wants(event):
            return
        run = run_rows.get_run(conn, run_id)
        assert run is not None
        tasks = run_rows.run_tasks(conn, run_id) if event == "WorkflowFinish" else []
        self._add(conn, notify, run, event, bodies.workflow_event(event, run, tasks, topology.nodes))

    def task_finished(self, conn: Connection, task: Task, topology: Topology, queue: Queue | None) -> None:
        notify = self.notify_config(topology, queue)
        if notify is None or not notify.wants("TaskFinish"):
            return
        run = run_rows.get_run(conn, task.run_id)
        final = run_rows.get_task(conn, task.job_id)
        assert run is not None and final is not None
        payload = bodies.task_event(final, run, topology.nodes.get(task.node_key), self._settings.region)
        self._add(conn, notify, run, "TaskFinish", payload, task.job_id)


class CallbackService:
    """The delivery log: list, show with attempts, redeliver."""

    def __init__(self, engine: Engine, wake: Callable[[], None] | None) -> None:
        """``wake`` nudges the delivery loop of a server in this process (None for the CLI, whose
        changes the server's loop picks up on its next poll)."""
        self._engine = engine
        self._wake = wake

    def search(
        self, *, run_id: str = "", state: str = "", since: datetime | None = None, limit: int = 100
    ) -> list[Callback]:
        if state and state not in ("pending", "delivered", "dead"):
            raise InvalidArgument("state must be pending, delivered or dead")
        with self._engine.connect() as conn:
            return callback_rows.search(conn, run_id=run_id, state=state, since=since, limit=limit)

    def show(self, callback_id: str) -> tuple[Callback, list[Attempt]]:
        with self._engine.connect() as conn:
            found = callback_rows.get(conn, callback_id)
        if found is None:
            raise InvalidArgument(f"callback {callback_id} does not exist")
        return found

    def redeliver(self, callback_ids: list[str]) -> int:
        with self._engine.begin() as conn:
            count = callback_rows.redeliver(conn, callback_ids, times.now())
        return self._woken(count)

    def redeliver_failed_since(self, since: datetime) -> int:
        with self._engine.begin() as conn:
            count = callback_rows.redeliver_dead_since(conn, since, times.now())
        return self._woken(count)

    def _woken(self, count: int) -> int:
        if count and self._wake is not None:
            self._wake()
        return count
