"""A read-only, seekable file over several files back to back (a composed blob)."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path


class ChainedReader(io.RawIOBase):
    def __init__(self, paths: Sequence[Path], sizes: Sequence[int]) -> None:
        self._paths = list(paths)
        self._starts = [sum(sizes[:i]) for i in range(len(sizes))]
        self._size = sum(sizes)
        self._pos = 0
        self._index = -1
        self._fd: int | None = None

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

    def _open_part(self, index: int) -> int:
        if index != self._index:
            if self._fd is not None:
                os.close(self._fd)
            self._fd, self._index = os.open(self._paths[index], os.O_RDONLY), index
        assert self._fd is not None
        return self._fd

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._pos >= self._size or not len(buffer):
            return 0
        index = max(i for i, start in enumerate(self._starts) if start <= self._pos)
        fd = self._open_part(index)
        data = os.pread(fd, len(buffer), self._pos - self._starts[index])
        if not data:
            raise OSError(f"{self._paths[index]} is shorter than recorded")
        memoryview(buffer)[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        super().close()
