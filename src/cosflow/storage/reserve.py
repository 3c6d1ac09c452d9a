"""Disk space held back for the operations that free space.

On a full disk even a DELETE needs a few pages: SQLite appends the transaction to its WAL before
the blob can be collected, and a full disk answers that append with ``SQLITE_FULL``. So the store
keeps a file of ``size`` bytes (``<root>/reserve``), allocated while there is room and kept open.
Writes of new data first make sure it is held (:meth:`DiskReserve.hold`) and are refused while it
cannot be. An operation that frees space or records a failure borrows it when the disk is full
(:meth:`DiskReserve.lend`: the space goes back to the filesystem), commits in the room it leaves,
and gives it back (:meth:`DiskReserve.give_back`): the reserve is allocated again at once, out of
what the operation freed, so it is out of hand only for the length of one SQLite commit. While it
is lent, :meth:`DiskReserve.hold` refuses, so new data (uploads in flight included) cannot take
that room. The rule and its sizing are in docs/design-choices.md ("A full disk").

The file stays open while held: removing it from outside the server frees nothing (the space is
the open file's until the server gives it back), so a DELETE on a full disk still finds it.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from cosflow.domain.failures import DISK_FULL

log = logging.getLogger(__name__)


class DiskReserve:
    """A file of ``size`` bytes at ``path``; ``size`` 0 holds nothing, makes no system call, and
    :meth:`hold` is always true. Thread-safe."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = max(0, size)
        self._fd: int | None = None
        #: True while the space is held, or while allocating failed for a reason other than room
        #: (then the server goes on without a reserve, as before it had one).
        self._held = False
        #: How many operations are running in the room the reserve gave back.
        self._lent = 0
        self._lock = threading.Lock()

    @property
    def held(self) -> bool:
        """Whether the reserve is held now. Reads attributes only (no system call, no lock): cheap
        enough for the event loop, on every write."""
        return self.size == 0 or self._held

    def hold(self) -> bool:
        """Make sure the reserve is allocated; ``False`` when the disk has not that much room, or
        while the reserve is lent (:meth:`lend`). Blocking (allocates) unless :attr:`held`. Never
        raises: an error other than a full disk is logged and counts as held (the write then meets
        the real error itself)."""
        if self.held:
            return True
        with self._lock:
            if not self._held and not self._lent:
                self._held = self._allocate()
            return self._held

    def _allocate(self) -> bool:
        """Open (or create) the file, allocate ``size`` bytes in it and keep it open. A file left by
        an earlier run is reused: allocating already allocated bytes takes no room."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            return self._failed(exc)
        try:
            os.posix_fallocate(fd, 0, self.size)
            if os.fstat(fd).st_size > self.size:  # left by a run with a larger setting
                os.ftruncate(fd, self.size)
            os.fsync(fd)
            blocks = os.fstat(fd).st_blocks
        except OSError as exc:
            os.close(fd)
            self.path.unlink(missing_ok=True)  # what a failed allocation took goes back
            return self._failed(exc)
        if blocks * 512 < self.size:
            log.warning(
                "the disk reserve takes no room on this filesystem (ZFS or another copy-on-write or"
                " compressing one): deletes on a full disk may fail; see docs/design-choices.md",
                extra={"action": "reserve_hold", "bytes": self.size, "allocated": blocks * 512},
            )
        self._fd = fd
        log.info("disk reserve held", extra={"action": "reserve_hold", "bytes": self.size})
        return True

    def _failed(self, exc: OSError) -> bool:
        if exc.errno in DISK_FULL:
            return False
        log.warning("could not allocate the disk reserve; going on without it", exc_info=True)
        return True

    def lend(self) -> bool:
        """Give the space to an operation that frees space (a delete) or records an outcome, which
        then runs once more; ``True`` when that is worth it: the reserve was held (or a file left by
        an earlier run was there) and is now freed, or another borrower freed it and is running in
        that room. Each ``True`` must be followed by one :meth:`give_back`."""
        if self.size == 0:
            return False
        with self._lock:
            if self._lent or self._free():
                self._lent += 1
                return True
        return False

    def _free(self) -> bool:
        fd, self._fd, self._held = self._fd, None, False
        freed = False
        if fd is not None:
            try:
                os.ftruncate(fd, 0)  # frees the blocks even if the name was removed from outside
                freed = True
            except OSError:
                log.warning("could not release the disk reserve", exc_info=True)
            finally:
                os.close(fd)
        try:
            self.path.unlink()
            freed = True  # when not open: a file left by an earlier run
        except FileNotFoundError:
            pass
        except OSError:
            log.warning("could not remove the disk reserve", exc_info=True)
        if freed:
            log.warning("disk full: reserve released", extra={"action": "reserve_release", "bytes": self.size})
        return freed

    def give_back(self) -> bool:
        """The end of one :meth:`lend`. The last borrower allocates the reserve again, out of what
        the operations freed (a deleted blob, an aborted upload's parts), before anything else can
        take that room; ``True`` when it is held again (``False``: too little was freed, and new
        data stays refused until there is room). Blocking."""
        with self._lock:
            self._lent = max(0, self._lent - 1)
            if self._lent:
                return False
        return self.hold()

    def close(self) -> None:
        """Stop holding the file open (the server stops); the file stays for the next run."""
        with self._lock:
            fd, self._fd, self._held = self._fd, None, False
        if fd is not None:
            os.close(fd)
