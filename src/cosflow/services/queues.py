"""Media and picture queues: made per bucket on first use; pausing holds waiting tasks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace

from anyio import to_thread
from sqlalchemy import Connection, Engine

from cosflow.db import buckets as bucket_rows
from cosflow.db import queues as queue_rows
from cosflow.db import runs as run_rows
from cosflow.domain import fields, schemas, times
from cosflow.domain.ci import Queue
from cosflow.domain.notify import parse_notify
from cosflow.domain.numbers import plain_uint
from cosflow.domain.states import QueueState, TaskState, parse_enum
from cosflow.errors import InvalidArgument
from cosflow.ids import queue_id as new_queue_id

KINDS = ("media", "picture")
DEFAULT_MAX_SIZE = 10000
DEFAULT_MAX_CONCURRENT = 2
MAX_CONCURRENT_LIMIT = 64
#: The Category a queue of each kind reports (spec §8.1).
CATEGORY = {"media": "Transcoding", "picture": "PicProcessing"}

#: An UpdateMediaQueue body (spec §8.2; the Python SDK demo ``ci_put_media_queue``). Fields a GET
#: answer carries are accepted when they agree with the queue (a GET answer can be sent back).
UPDATE_FIELDS = fields.Schema(
    "an UpdateMediaQueue body",
    {
        **{name: fields.HONOURED for name in ("Name", "QueueID", "QueueId", "State", "MaxConcurrent", "Category")},
        **{f"NotifyConfig/{path}": rule for path, rule in schemas.NOTIFY_FIELDS.items()},
        "MaxSize": fields.Honoured(values=(str(DEFAULT_MAX_SIZE),), refused="a queue's MaxSize is fixed"),
        "CreateTime": fields.Ignored("response-only"),
        "UpdateTime": fields.Ignored("response-only"),
    },
)


def with_notify(queue: Queue) -> Queue:
    element = ET.fromstring(queue.notify_xml) if queue.notify_xml else None
    return replace(queue, notify=parse_notify(element, f"queue {queue.queue_id}"))


def ensure_defaults(conn: Connection, bucket: str) -> dict[str, Queue]:
    """The bucket's default media and picture queues, created the first time they are needed.

    Creating them holds the bucket's row (:func:`bucket_rows.lock`) and reads again, so two first uploads
    into a bucket on PostgreSQL create one pair of default queues, not two."""
    if any(not queue_rows.bucket_queues(conn, bucket, kind) for kind in KINDS):
        bucket_rows.lock(conn, bucket)
    found: dict[str, Queue] = {}
    for kind in KINDS:
        existing = queue_rows.bucket_queues(conn, bucket, kind)
        if existing:
            found[kind] = with_notify(existing[0])
            continue
        now = times.now()
        label = "media" if kind == "media" else "picture"
        queue = Queue(
            new_queue_id(),
            bucket,
            kind,
            f"default {label} queue",
            QueueState.ACTIVE,
            DEFAULT_MAX_SIZE,
            DEFAULT_MAX_CONCURRENT,
            None,
            now,
            now,
        )
        queue_rows.insert_queue(conn, queue)
        found[kind] = queue
    return found


def queue_for(conn: Connection, bucket: str, kind: str, queue_id: str) -> Queue:
    """A queue of this bucket by id, or the bucket's default of that kind when no id is given."""
    if not queue_id:
        return ensure_defaults(conn, bucket)[kind]
    queue = queue_rows.get_queue(conn, queue_id)
    if queue is None or queue.bucket != bucket:
        raise InvalidArgument(f"queue {queue_id} does not exist in bucket {bucket}")
    if queue.kind != kind:
        raise InvalidArgument(f"queue {queue_id} is a {queue.kind} queue, not a {kind} queue")
    return with_notify(queue)


def apply_update(conn: Connection, queue: Queue, request: ET.Element) -> Queue:
    """Apply an UpdateMediaQueue body; pausing holds waiting tasks (Pause), resuming releases them.
    Every field is honoured or refused (:data:`UPDATE_FIELDS`, issue 8)."""
    fields.check(request, UPDATE_FIELDS, "queue")
    for field_name in ("QueueID", "QueueId"):
        given = (request.findtext(field_name) or "").strip()
        if given and given != queue.queue_id:
            raise InvalidArgument(f"queue: {field_name} {given} is not the queue in the path ({queue.queue_id})")
    category = (request.findtext("Category") or "").strip()
    if category and category != CATEGORY[queue.kind]:
        raise InvalidArgument(f"queue: Category {category} is not this queue's ({CATEGORY[queue.kind]})")
    name = (request.findtext("Name") or queue.name).strip()
    if not name or len(name) > 100:
        raise InvalidArgument("queue Name must be 1 to 100 characters")
    state_text = (request.findtext("State") or queue.state).strip()
    state = parse_enum(QueueState, state_text)
    if state is None:
        raise InvalidArgument(f"queue State must be Active or Paused, got {state_text!r}")
    max_concurrent = queue.max_concurrent
    if request.findtext("MaxConcurrent"):
        parsed = plain_uint(request.findtext("MaxConcurrent", "").strip())
        if parsed is None or not 1 <= parsed <= MAX_CONCURRENT_LIMIT:
            raise InvalidArgument(f"queue MaxConcurrent must be 1..{MAX_CONCURRENT_LIMIT}")
        max_concurrent = parsed
    notify_el = request.find("NotifyConfig")
    notify_xml = queue.notify_xml
    if notify_el is not None:
        parse_notify(notify_el, f"queue {queue.queue_id}")  # validates
        notify_xml = ET.tostring(notify_el, encoding="unicode")
    updated = replace(
        queue,
        name=name,
        state=state.value,
        max_concurrent=max_concurrent,
        notify_xml=notify_xml,
        updated_at=times.now(),
    )
    queue_rows.update_queue(conn, updated)
    if queue.state != updated.state:
        if updated.state == QueueState.PAUSED:
            run_rows.move_queue_tasks(conn, queue.queue_id, TaskState.SUBMITTED, TaskState.PAUSE)
        else:
            run_rows.move_queue_tasks(conn, queue.queue_id, TaskState.PAUSE, TaskState.SUBMITTED)
    return with_notify(updated)


class QueueService:
    def __init__(self, engine: Engine, wake: Callable[[], None]) -> None:
        self._engine = engine
        self._wake = wake

    async def list(
        self, bucket: str, kind: str, ids: list[str], state: str, page: int, size: int
    ) -> tuple[int, list[Queue], list[str]]:
        def run() -> tuple[int, list[Queue], list[str]]:
            with self._engine.begin() as conn:
                ensure_defaults(conn, bucket)
                found = [with_notify(q) for q in queue_rows.bucket_queues(conn, bucket, kind)]
            missing = [i for i in ids if i not in {q.queue_id for q in found}]
            if ids:
                found = [q for q in found if q.queue_id in ids]
            if state and state != "All":
                found = [q for q in found if q.state == state]
            return len(found), found[(page - 1) * size : page * size], missing

        return await to_thread.run_sync(run)

    async def update(self, bucket: str, kind: str, queue_id: str, request: ET.Element) -> Queue:
        def run() -> Queue:
            with self._engine.begin() as conn:
                ensure_defaults(conn, bucket)
                queue = queue_rows.get_queue(conn, queue_id, lock=True)
                if queue is None or queue.bucket != bucket or queue.kind != kind:
                    raise InvalidArgument(f"{kind} queue {queue_id} does not exist in bucket {bucket}")
                return apply_update(conn, queue, request)

        updated = await to_thread.run_sync(run)
        self._wake()
        return updated
