"""An in-memory blob store for unit tests of the services."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from typing import BinaryIO

from cosflow.errors import StorageError
from cosflow.ids import blob_id as new_blob_id
from cosflow.storage.base import BlobInfo, NoDiskReserve


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


class MemoryBlobStore(NoDiskReserve):
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        #: composed blob -> the part blobs it owns (deleted with it)
        self.composed: dict[str, list[str]] = {}

    def writer(self) -> MemoryBlobWriter:
        return MemoryBlobWriter(self)

    def open(self, blob_id: str) -> BinaryIO:
        try:
            return io.BytesIO(self.blobs[blob_id])
        except KeyError as exc:
            raise StorageError(f"blob {blob_id} is missing") from exc

    def compose(self, blob_ids: Sequence[str]) -> BlobInfo:
        try:
            data = b"".join(self.blobs[b] for b in blob_ids)
        except KeyError as exc:
            raise StorageError(f"blob {exc.args[0]} is missing") from exc
        blob_id = new_blob_id()
        self.blobs[blob_id] = data
        self.composed[blob_id] = list(blob_ids)
        return BlobInfo(blob_id, len(data), "")

    def decompose(self, blob_id: str) -> None:
        self.composed.pop(blob_id, None)
        self.blobs.pop(blob_id, None)

    def copy(self, blob_id: str) -> BlobInfo:
        if blob_id not in self.blobs:
            raise StorageError(f"blob {blob_id} is missing")
        new_id = new_blob_id()
        self.blobs[new_id] = self.blobs[blob_id]
        return BlobInfo(new_id, len(self.blobs[new_id]), "")

    def delete(self, blob_id: str) -> None:
        for part in self.composed.pop(blob_id, ()):
            self.blobs.pop(part, None)
        self.blobs.pop(blob_id, None)

    def exists(self, blob_id: str) -> bool:
        return blob_id in self.blobs

    def sweep(self) -> int:
        return 0
