"""A read-only, seekable file over S3 objects back to back (a plain blob is one, a composed blob
its parts), fetched by ranged GETs as it is read."""

from __future__ import annotations

import bisect
import io
import itertools
from collections.abc import Callable, Sequence
from typing import Any

from cosflow.errors import CosflowError, StorageError

#: ``(key, first, last)`` -> the body of ``GET key`` with ``Range: bytes=first-last`` (a reader).
Fetch = Callable[[str, int, int], Any]
#: ``(action, exc)`` -> the domain error to raise ``from exc``.
Failure = Callable[[str, Exception], CosflowError]


class S3Reader(io.RawIOBase):
    """Nothing is fetched before the first read. A read streams one GET from the position to the
    end of the part it falls in, so reading a blob through costs one request per part; a seek
    elsewhere drops that stream and the next read starts another (a ranged GET Object is one
    seek, then one stream)."""

    def __init__(
        self,
        fetch: Fetch,
        segments: Sequence[tuple[str, int]],
        failure: Failure,
        on_close: Callable[[], None] = lambda: None,
    ) -> None:
        self._fetch = fetch
        self._failure = failure
        self._on_close: Callable[[], None] | None = on_close
        self._keys = [k for k, _ in segments]
        self._sizes = [n for _, n in segments]
        self._starts = list(itertools.accumulate(self._sizes, initial=0))[:-1]
        self._size = sum(self._sizes)
        self._pos = 0
        self._body: Any = None
        self._left = 0  # bytes the open body has still to give

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        target = max(0, base + offset)
        if target != self._pos:
            self._drop()
            self._pos = target
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._pos >= self._size or not len(buffer):
            return 0
        try:
            if self._body is None:
                self._open()
            data = self._body.read(min(len(buffer), self._left))
        except CosflowError:
            raise
        except Exception as exc:  # botocore, urllib3 and socket errors alike
            self._drop()
            raise self._failure("could not read the object", exc) from exc
        if not data:
            self._drop()
            raise StorageError("could not read the object: it is shorter than recorded")
        memoryview(buffer)[: len(data)] = data
        self._pos += len(data)
        self._left -= len(data)
        if not self._left:
            self._drop()
        return len(data)

    def _open(self) -> None:
        index = bisect.bisect_right(self._starts, self._pos) - 1
        while not self._sizes[index]:  # an empty part holds no byte: on to the next
            index += 1
        first = self._pos - self._starts[index]
        self._body = self._fetch(self._keys[index], first, self._sizes[index] - 1)
        self._left = self._sizes[index] - first

    def _drop(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            body.close()

    def close(self) -> None:
        self._drop()
        on_close, self._on_close = self._on_close, None
        try:
            if on_close is not None:
                on_close()
        finally:
            super().close()
