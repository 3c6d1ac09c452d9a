"""A read-only, seekable file over several files back to back (a composed blob)."""

from __future__ import annotations

import bisect
import io
import itertools
import os
from collections.abc import Sequence
from pathlib import Path


class ChainedReader(io.RawIOBase):
    """Every part is opened up front: like an open plain file, the reader keeps working when the
    object is overwritten or deleted meanwhile (its parts unlinked) until it is closed."""

    def __init__(self, paths: Sequence[Path], sizes: Sequence[int]) -> None:
        self._paths = list(paths)
        self._starts = list(itertools.accumulate(sizes, initial=0))[:-1]
        self._size = sum(sizes)
        self._pos = 0
        self._fds: list[int] = []
        try:
            for path in self._paths:
                self._fds.append(os.open(path, os.O_RDONLY))
        except OSError:
            self.close()
            raise

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._pos >= self._size or not len(buffer):
            return 0
        index = bisect.bisect_right(self._starts, self._pos) - 1
        data = os.pread(self._fds[index], len(buffer), self._pos - self._starts[index])
        if not data:
            raise OSError(f"{self._paths[index]} is shorter than recorded")
        memoryview(buffer)[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def close(self) -> None:
        while self._fds:
            os.close(self._fds.pop())
        super().close()
