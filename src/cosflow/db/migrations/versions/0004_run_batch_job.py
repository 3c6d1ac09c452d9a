"""Runs remember the batch (inventory trigger) job that started them, if any.

DescribeWorkflowExecutions filters by it (``jobId``, spec §6.8). Upload and manual triggers leave
it NULL, so every run written before this revision is correctly "not from a batch job".

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("batch_job_id", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("batch_job_id")
