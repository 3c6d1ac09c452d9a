"""Blobs as files under ``<root>/blobs/<aa>/<id>``; writes go to ``<root>/tmp`` and are renamed in."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from cosflow.errors import StorageError
from cosflow.ids import blob_id as new_blob_id
from cosflow.storage.base import BlobInfo

_COPY_CHUNK = 8 * 1024 * 1024


class FileBlobWriter:
    def __init__(self, store: FileBlobStore) -> None:
        self._store = store
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="put-")
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._tmp = Path(name)
        self._md5 = hashlib.md5()
        self._size = 0
        self._done = False

    def write(self, data: bytes) -> None:
        self._md5.update(data)
        view = memoryview(data)
        while view:
            written = self._file.write(view)
            view = view[written:]
        self._size += len(data)

    def append_file(self, path: Path) -> None:
        """Copy a whole file in-kernel (``copy_file_range``); the md5 is not updated."""
        with open(path, "rb") as src:
            remaining = os.fstat(src.fileno()).st_size
            while remaining:
                copied = os.copy_file_range(src.fileno(), self._file.fileno(), min(remaining, _COPY_CHUNK))
                if copied == 0:
                    raise OSError(f"{path} shrank while being copied")
                remaining -= copied
                self._size += copied

    def commit(self) -> BlobInfo:
        blob_id = new_blob_id()
        try:
            os.fsync(self._file.fileno())
            self._file.close()
            target = self._store.path(blob_id)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._tmp, target)
        except OSError as exc:
            self.abort()
            raise StorageError(f"could not store blob: {exc}") from exc
        self._done = True
        return BlobInfo(blob_id, self._size, self._md5.hexdigest())

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._file.close()
        self._tmp.unlink(missing_ok=True)


class FileBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.blob_dir = self.root / "blobs"
        self.tmp_dir = self.root / "tmp"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def path(self, blob_id: str) -> Path:
        if not blob_id.isalnum():  # ids are ours; anything else is a bug, never a path
            raise StorageError(f"bad blob id {blob_id!r}")
        return self.blob_dir / blob_id[:2] / blob_id

    def writer(self) -> FileBlobWriter:
        return FileBlobWriter(self)

    def open(self, blob_id: str) -> BinaryIO:
        try:
            return open(self.path(blob_id), "rb")  # noqa: SIM115 - the caller owns the handle
        except OSError as exc:
            raise StorageError(f"blob {blob_id} is unreadable: {exc}") from exc

    def concat(self, blob_ids: Sequence[str]) -> BlobInfo:
        writer = self.writer()
        try:
            for part in blob_ids:
                writer.append_file(self.path(part))
            info = writer.commit()
        except OSError as exc:
            writer.abort()
            raise StorageError(f"could not assemble parts: {exc}") from exc
        except BaseException:
            writer.abort()
            raise
        return BlobInfo(info.blob_id, info.size, "")

    def delete(self, blob_id: str) -> None:
        self.path(blob_id).unlink(missing_ok=True)

    def exists(self, blob_id: str) -> bool:
        return self.path(blob_id).is_file()

    def sweep(self) -> int:
        removed = 0
        for leftover in self.tmp_dir.iterdir():
            leftover.unlink(missing_ok=True)
            removed += 1
        return removed
