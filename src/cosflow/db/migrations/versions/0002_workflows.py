"""Workflows, templates, queues, workflow runs and their tasks.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cosflow.db.tables import UTCDateTime, binary_string

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("workflow_id", sa.String(40), primary_key=True),
        sa.Column("bucket", binary_string(64), sa.ForeignKey("buckets.name"), nullable=False, index=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("topology", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "templates",
        sa.Column("template_id", sa.String(40), primary_key=True),
        sa.Column("bucket", sa.String(64), nullable=True, index=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("tag", sa.String(32), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "queues",
        sa.Column("queue_id", sa.String(40), primary_key=True),
        sa.Column("bucket", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("max_size", sa.Integer, nullable=False),
        sa.Column("max_concurrent", sa.Integer, nullable=False),
        sa.Column("notify", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(40), primary_key=True),
        sa.Column("workflow_id", sa.String(40), nullable=False),
        sa.Column("workflow_name", sa.String(128), nullable=False),
        sa.Column("bucket", sa.String(64), nullable=False),
        sa.Column("object_key", sa.String(1024), nullable=False),
        sa.Column("cos_headers", sa.JSON, nullable=False),
        sa.Column("topology", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_runs_workflow_created", "runs", ["workflow_id", "created_at"])
    op.create_table(
        "tasks",
        sa.Column("job_id", sa.String(40), primary_key=True),
        sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.run_id"), nullable=False, index=True),
        sa.Column("node_key", sa.String(128), nullable=False),
        sa.Column("node_type", sa.String(32), nullable=False),
        sa.Column("queue_id", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("template_id", sa.String(40), nullable=False),
        sa.Column("template_name", sa.String(64), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("progress", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_tasks_state_queue", "tasks", ["state", "queue_id"])


def downgrade() -> None:
    for table in ("tasks", "runs", "queues", "templates", "workflows"):
        op.drop_table(table)
