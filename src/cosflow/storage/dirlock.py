"""One serving process per data directory: an exclusive, non-blocking ``flock`` on ``cosflow.lock``.

What a server does at start (sweep temp files, re-queue Running tasks, release callback leases)
is only safe because no other live process works in the same directory. The kernel drops the
lock when the holder dies, kill -9 included, so a crashed server never blocks its successor.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from cosflow.errors import ConfigError

LOCK_NAME = "cosflow.lock"


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise ConfigError(
                f"another cosflow server (pid {holder}) is using the data directory {self.path.parent.resolve()}; "
                "stop it or start this one with another --data-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
