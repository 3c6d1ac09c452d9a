"""Disk space held back for the operations that free space.

On a full disk even a DELETE needs a few pages: SQLite appends the transaction to its WAL before
the blob can be collected, and a full disk answers that append with ``SQLITE_FULL``. So the store
keeps a file of ``size`` bytes (``<root>/reserve``), allocated while there is room. Writes of new
data first make sure it is held (:meth:`DiskReserve.hold`) and are refused while it cannot be;
an operation that frees space or records a failure gives it up (:meth:`DiskReserve.release`) when
the disk is full, commits in the room it leaves, and the next write allocates it again once
space is back. The rule and its sizing are in docs/design-choices.md ("A full disk").
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from cosflow.domain.failures import DISK_FULL

log = logging.getLogger(__name__)


class DiskReserve:
    """A file of ``size`` bytes at ``path``; ``size`` 0 holds nothing (and :meth:`hold` is always true)."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = max(0, size)
        self._held = False
        self._lock = threading.Lock()

    def hold(self) -> bool:
        """Make sure the reserve is allocated; ``False`` when the disk has not that much room.
        Never raises: an error other than a full disk is logged and counts as held (the write
        then meets the real error itself)."""
        if self.size == 0 or self._held:
            return True
        with self._lock:
            if not self._held:
                self._held = self._allocate()
            return self._held

    def _allocate(self) -> bool:
        try:
            if self.path.stat().st_size >= self.size:
                return True  # left by an earlier run
        except FileNotFoundError:
            pass
        except OSError:
            log.warning("could not look at the disk reserve", exc_info=True)
            return True
        partial = self.path.with_name(self.path.name + ".partial")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.posix_fallocate(fd, 0, self.size)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(partial, self.path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            if exc.errno in DISK_FULL:
                return False
            log.warning("could not allocate the disk reserve; going on without it", exc_info=True)
            return True
        log.info("disk reserve held", extra={"action": "reserve_hold", "bytes": self.size})
        return True

    def release(self) -> bool:
        """Give the reserve back to the filesystem; ``True`` when that freed space."""
        with self._lock:
            self._held = False
            try:
                self.path.unlink()
            except FileNotFoundError:
                return False
            except OSError:
                log.warning("could not release the disk reserve", exc_info=True)
                return False
        log.warning("disk full: reserve released", extra={"action": "reserve_release", "bytes": self.size})
        return True
