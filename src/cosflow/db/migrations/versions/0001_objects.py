"""Buckets, objects, multipart uploads and parts, and the blob garbage list.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cosflow.db.tables import UTCDateTime, binary_string

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "buckets",
        sa.Column("name", binary_string(64), primary_key=True),
        sa.Column("acl", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "objects",
        sa.Column("bucket", binary_string(64), sa.ForeignKey("buckets.name"), primary_key=True),
        sa.Column("key", binary_string(1024), primary_key=True),
        sa.Column("blob_id", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("last_modified", UTCDateTime(), nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("storage_class", sa.String(32), nullable=False),
    )
    op.create_table(
        "uploads",
        sa.Column("upload_id", sa.String(64), primary_key=True),
        sa.Column("bucket", binary_string(64), sa.ForeignKey("buckets.name"), nullable=False, index=True),
        sa.Column("key", binary_string(1024), nullable=False),
        sa.Column("initiated", UTCDateTime(), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("storage_class", sa.String(32), nullable=False),
    )
    op.create_table(
        "parts",
        sa.Column("upload_id", sa.String(64), sa.ForeignKey("uploads.upload_id"), primary_key=True),
        sa.Column("part_number", sa.Integer, primary_key=True),
        sa.Column("blob_id", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("last_modified", UTCDateTime(), nullable=False),
    )
    op.create_table("garbage", sa.Column("blob_id", sa.String(64), primary_key=True))


def downgrade() -> None:
    for table in ("garbage", "parts", "uploads", "objects", "buckets"):
        op.drop_table(table)
