"""Disk space: new data is refused while the reserve cannot be held; deletes and failure records
commit on a full disk by borrowing the reserve (:mod:`cosflow.storage.reserve`, and
docs/design-choices.md "A full disk")."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from anyio import to_thread

from cosflow.errors import InsufficientStorage
from cosflow.storage.base import BlobStore

log = logging.getLogger(__name__)
T = TypeVar("T")


async def require_room(store: BlobStore) -> None:
    """Before new data is written (and between the pieces of a body being received): raise
    :class:`InsufficientStorage` while the reserve is not held and cannot be allocated (the disk
    has less room than the reserve, or it is lent to a delete). While it is held, as nearly always,
    this reads a flag on the event loop: no worker thread on the path of every PUT, copy and part."""
    if store.reserve_held():
        return
    if not await to_thread.run_sync(store.hold_reserve):
        raise InsufficientStorage()


def with_room(store: BlobStore, operation: Callable[[], T]) -> T:
    """Run ``operation`` (one transaction that frees space or records an outcome, and what follows
    its commit, such as collecting the freed blobs); if the disk is full, borrow the reserve and run
    it once more, then give the reserve back: it is allocated again out of what the operation freed.
    Blocking: call it from a worker thread. Raises :class:`InsufficientStorage` when even that is
    not enough."""
    try:
        return operation()
    except InsufficientStorage:
        if not store.lend_reserve():
            raise
    log.warning("disk full: retrying with the reserve given up", extra={"action": "with_room"})
    try:
        return operation()
    finally:
        store.return_reserve()
