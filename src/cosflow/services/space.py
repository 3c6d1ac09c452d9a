"""Disk space: new data is refused while the reserve cannot be held; deletes and failure records
commit on a full disk by giving the reserve up (:mod:`cosflow.storage.reserve`, and
docs/design-choices.md "A full disk")."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from cosflow.errors import InsufficientStorage
from cosflow.storage.base import BlobStore

log = logging.getLogger(__name__)
T = TypeVar("T")


def require_room(store: BlobStore) -> None:
    """Before new data is written: raise :class:`InsufficientStorage` while the disk has less room
    than the reserve (it was given up to let deletes through and cannot be allocated again yet)."""
    if not store.hold_reserve():
        raise InsufficientStorage()


def with_room(store: BlobStore, operation: Callable[[], T]) -> T:
    """Run ``operation`` (one transaction that frees space or records an outcome); if the disk is
    full, give the reserve back to the filesystem and run it once more. Blocking: call it from a
    worker thread. Raises :class:`InsufficientStorage` when even that is not enough."""
    try:
        return operation()
    except InsufficientStorage:
        if not store.release_reserve():
            raise
    log.warning("disk full: retrying with the reserve given up", extra={"action": "with_room"})
    return operation()
