"""An in-memory blob store for unit tests of the services."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from typing import BinaryIO

from cosflow.errors import StorageError
from cosflow.ids import blob_id as new_blob_id
from cosflow.storage.base import BlobInfo


class MemoryBlobWriter:
    def __init__(self, store: MemoryBlobStore) -> None:
        self._store = store
        self._buffer = bytearray()
        self._done = False

    def write(self, data: bytes) -> None:
        self._buffer += data

    def commit(self) -> BlobInfo:
        blob_id = new_blob_id()
        self._store.blobs[blob_id] = bytes(self._buffer)
        self._done = True
        return BlobInfo(blob_id, len(self._buffer), hashlib.md5(self._buffer).hexdigest())

    def abort(self) -> None:
        self._done = True
        self._buffer.clear()


class MemoryBlobStore:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def writer(self) -> MemoryBlobWriter:
        return MemoryBlobWriter(self)

    def open(self, blob_id: str) -> BinaryIO:
        try:
            return io.BytesIO(self.blobs[blob_id])
        except KeyError as exc:
            raise StorageError(f"blob {blob_id} is missing") from exc

    def concat(self, blob_ids: Sequence[str]) -> BlobInfo:
        try:
            data = b"".join(self.blobs[b] for b in blob_ids)
        except KeyError as exc:
            raise StorageError(f"blob {exc.args[0]} is missing") from exc
        blob_id = new_blob_id()
        self.blobs[blob_id] = data
        return BlobInfo(blob_id, len(data), "")

    def delete(self, blob_id: str) -> None:
        self.blobs.pop(blob_id, None)

    def exists(self, blob_id: str) -> bool:
        return blob_id in self.blobs

    def sweep(self) -> int:
        return 0
