"""Deleting blobs that no row points to any more, after the transaction that orphaned them."""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from cosflow.db import objects as object_rows
from cosflow.storage.base import BlobStore

log = logging.getLogger(__name__)


def collect(engine: Engine, store: BlobStore) -> int:
    """Delete every blob on the garbage list (called after commits and at start)."""
    with engine.connect() as conn:
        blob_ids = object_rows.garbage_ids(conn)
    if not blob_ids:
        return 0
    for blob_id in blob_ids:
        store.delete(blob_id)
    with engine.begin() as conn:
        object_rows.forget_garbage(conn, blob_ids)
    log.debug("collected blobs", extra={"action": "gc", "count": len(blob_ids)})
    return len(blob_ids)


def collect_after_commit(engine: Engine, store: BlobStore) -> None:
    """Collect, but never fail the operation whose commit orphaned the blobs: its new data is
    already durable, and anything left on the list is collected later (next commit, next start)."""
    try:
        collect(engine, store)
    except Exception:
        log.warning("could not collect replaced blobs now; they stay listed for later", exc_info=True)
