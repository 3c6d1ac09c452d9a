"""Schema, as SQLAlchemy Core tables. Alembic migrations in ``migrations/`` create the same."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def binary_string(length: int) -> String:
    """A string compared and sorted byte by byte on every backend, as COS lists keys (UTF-8 binary
    order): SQLite's default BINARY collation, PostgreSQL's ``"C"`` (a database created with, say,
    ``en_US.UTF-8`` would otherwise sort ``a-b`` after ``ab`` and page listings wrongly)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")  # type: ignore[return-value]


metadata = MetaData()

buckets = Table(
    "buckets",
    metadata,
    Column("name", binary_string(64), primary_key=True),
    Column("acl", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

objects = Table(
    "objects",
    metadata,
    Column("bucket", binary_string(64), ForeignKey("buckets.name"), primary_key=True),
    Column("key", binary_string(1024), primary_key=True),
    Column("blob_id", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("last_modified", UTCDateTime(), nullable=False),
    Column("headers", JSON, nullable=False),
    Column("meta", JSON, nullable=False),
    Column("storage_class", String(32), nullable=False),
)

uploads = Table(
    "uploads",
    metadata,
    Column("upload_id", String(64), primary_key=True),
    Column("bucket", binary_string(64), ForeignKey("buckets.name"), nullable=False, index=True),
    Column("key", binary_string(1024), nullable=False),
    Column("initiated", UTCDateTime(), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("headers", JSON, nullable=False),
    Column("meta", JSON, nullable=False),
    Column("storage_class", String(32), nullable=False),
)

parts = Table(
    "parts",
    metadata,
    Column("upload_id", String(64), ForeignKey("uploads.upload_id"), primary_key=True),
    Column("part_number", Integer, primary_key=True),
    Column("blob_id", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("last_modified", UTCDateTime(), nullable=False),
)

#: Blobs no row points to any more, deleted after the transaction that orphaned them commits.
#: A crash between commit and delete leaves the row, and the next start deletes the blob.
garbage = Table(
    "garbage",
    metadata,
    Column("blob_id", String(64), primary_key=True),
)

workflows = Table(
    "workflows",
    metadata,
    Column("workflow_id", String(40), primary_key=True),
    Column("bucket", binary_string(64), ForeignKey("buckets.name"), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("state", String(16), nullable=False),
    #: The <Topology> element exactly as sent, echoed back unchanged.
    Column("topology", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

templates = Table(
    "templates",
    metadata,
    Column("template_id", String(40), primary_key=True),
    #: NULL for the system (Official) presets, shared by every bucket.
    Column("bucket", String(64), nullable=True, index=True),
    Column("name", String(64), nullable=False),
    Column("tag", String(32), nullable=False),
    Column("category", String(16), nullable=False),
    #: The tag's body (e.g. <Container>, <Video>, ... or <Snapshot>) as sent.
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

queues = Table(
    "queues",
    metadata,
    Column("queue_id", String(40), primary_key=True),
    Column("bucket", String(64), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # media | picture
    Column("name", String(128), nullable=False),
    Column("state", String(16), nullable=False),
    Column("max_size", Integer, nullable=False),
    Column("max_concurrent", Integer, nullable=False),
    Column("notify", Text, nullable=True),  # <NotifyConfig> as sent
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(40), primary_key=True),
    Column("workflow_id", String(40), nullable=False),
    Column("workflow_name", String(128), nullable=False),
    Column("bucket", String(64), nullable=False),
    Column("object_key", String(1024), nullable=False),
    Column("cos_headers", JSON, nullable=False),
    #: Snapshot of the workflow's topology when the run started.
    Column("topology", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("code", String(64), nullable=False, default=""),
    Column("message", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    #: The batch (inventory trigger) job that started the run; NULL for upload and manual triggers.
    Column("batch_job_id", String(40), nullable=True),
    Index("ix_runs_workflow_created", "workflow_id", "created_at"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("job_id", String(40), primary_key=True),
    Column("run_id", String(40), ForeignKey("runs.run_id"), nullable=False, index=True),
    Column("node_key", String(128), nullable=False),
    Column("node_type", String(32), nullable=False),
    Column("queue_id", String(40), nullable=False),
    Column("state", String(16), nullable=False),
    #: Object keys this task reads (its parents' outputs, or the uploaded object).
    Column("inputs", JSON, nullable=False),
    #: ResultInfo as data: {"objects": [...], "sprites": [...]}
    Column("result", JSON, nullable=True),
    Column("template_id", String(40), nullable=False, default=""),
    Column("template_name", String(64), nullable=False, default=""),
    Column("code", String(64), nullable=False, default=""),
    Column("message", Text, nullable=False, default=""),
    Column("progress", Integer, nullable=False, default=0),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime(), nullable=True),
    Column("ended_at", UTCDateTime(), nullable=True),
    Index("ix_tasks_state_queue", "state", "queue_id"),
)

#: The callback outbox: a row is written in the transaction of the state change that causes it.
callbacks = Table(
    "callbacks",
    metadata,
    #: Stable across retries: the Standard Webhooks ``webhook-id``.
    Column("callback_id", String(40), primary_key=True),
    Column("run_id", String(40), nullable=False),
    #: Order within the run: WorkflowStart < TaskFinish... < WorkflowFinish.
    Column("seq", Integer, nullable=False),
    Column("event", String(32), nullable=False),
    Column("job_id", String(40), nullable=False, default=""),
    Column("url", Text, nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("secret", Text, nullable=False, default=""),
    Column("state", String(16), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("last_error", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=True),
    Index("ix_callbacks_due", "state", "next_attempt_at"),
    Index("ix_callbacks_run", "run_id", "seq"),
)

callback_attempts = Table(
    "callback_attempts",
    metadata,
    Column("attempt_id", Integer, primary_key=True, autoincrement=True),
    Column("callback_id", String(40), ForeignKey("callbacks.callback_id"), nullable=False, index=True),
    Column("attempted_at", UTCDateTime(), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("latency_ms", Integer, nullable=False),
    Column("error", Text, nullable=False, default=""),
    Column("response_body", Text, nullable=False, default=""),
)
