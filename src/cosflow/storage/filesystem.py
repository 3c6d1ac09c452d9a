"""Blobs as files under ``<root>/blobs/<aa>/<id>``; writes go to ``<root>/tmp`` and are renamed in.

A composed blob (multipart completion) is a small ``<id>.parts`` manifest naming its part blobs,
so completing a 5 GB upload writes a few hundred bytes instead of copying 5 GB.

Every ``OSError`` becomes a domain error here, at the store's edge (:func:`_failure`): a full disk
or quota is :class:`~cosflow.errors.InsufficientStorage`, anything else a
:class:`~cosflow.errors.StorageError` whose message says what failed in words, never a path or
an errno number (the raw error is kept as ``__cause__`` for the log).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from cosflow.domain.failures import DISK_FULL, os_words
from cosflow.errors import CosflowError, InsufficientStorage, StorageError
from cosflow.ids import blob_id as new_blob_id
from cosflow.storage.base import BlobInfo
from cosflow.storage.chained import ChainedReader
from cosflow.storage.reserve import DiskReserve

_COPY_CHUNK = 8 * 1024 * 1024
#: Writes a chunk to its file while the calling thread hashes it (both release the GIL).
_WRITES = ThreadPoolExecutor(max_workers=8, thread_name_prefix="cosflow-blob-write")


def _failure(action: str, exc: OSError) -> CosflowError:
    """``exc`` as the domain error to raise ``from`` it: ``action`` ("could not store the object")
    and the reason in words."""
    if exc.errno in DISK_FULL:
        return InsufficientStorage()
    return StorageError(f"{action}: {os_words(exc.errno)}")


class FileBlobWriter:
    def __init__(self, store: FileBlobStore) -> None:
        self._store = store
        try:
            fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="put-")
        except OSError as exc:
            raise _failure("could not start storing the object", exc) from exc
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._tmp = Path(name)
        self._md5 = hashlib.md5()
        self._size = 0
        self._done = False
        # A cancelled upload may abort while its last write still runs in a worker thread: abort
        # waits for it rather than closing the file (or a reused descriptor) under it.
        self._lock = threading.RLock()

    def write(self, data: bytes) -> None:
        with self._lock:
            stored = _WRITES.submit(self._write_all, data)
            try:
                self._md5.update(data)
            finally:
                try:
                    stored.result()
                except OSError as exc:
                    raise _failure("could not store the object", exc) from exc
            self._size += len(data)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = self._file.write(view)
            view = view[written:]

    def append_file(self, path: Path) -> None:
        """Copy a whole file in-kernel (``copy_file_range``); the md5 is not updated."""
        try:
            with self._lock, open(path, "rb") as src:
                remaining = os.fstat(src.fileno()).st_size
                while remaining:
                    copied = os.copy_file_range(src.fileno(), self._file.fileno(), min(remaining, _COPY_CHUNK))
                    if copied == 0:
                        raise StorageError("could not copy the object: it shrank while being copied")
                    remaining -= copied
                    self._size += copied
        except OSError as exc:
            raise _failure("could not copy the object", exc) from exc

    def commit(self) -> BlobInfo:
        with self._lock:
            return self._commit()

    def _commit(self) -> BlobInfo:
        blob_id = new_blob_id()
        try:
            os.fsync(self._file.fileno())
            self._file.close()
            target = self._store.path(blob_id)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._tmp, target)
        except OSError as exc:
            self.abort()
            raise _failure("could not store the object", exc) from exc
        self._done = True
        return BlobInfo(blob_id, self._size, self._md5.hexdigest())

    def abort(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            self._file.close()
            self._tmp.unlink(missing_ok=True)


class FileBlobStore:
    """``reserve_bytes``: the disk space held back for deletes on a full disk (:mod:`.reserve`)."""

    def __init__(self, root: Path, reserve_bytes: int = 0) -> None:
        self.root = Path(root)
        self.blob_dir = self.root / "blobs"
        self.tmp_dir = self.root / "tmp"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self._reserve = DiskReserve(self.root / "reserve", reserve_bytes)

    def reserve_held(self) -> bool:
        return self._reserve.held

    def hold_reserve(self) -> bool:
        return self._reserve.hold()

    def lend_reserve(self) -> bool:
        return self._reserve.lend()

    def return_reserve(self) -> None:
        self._reserve.give_back()

    def close(self) -> None:
        self._reserve.close()

    def path(self, blob_id: str) -> Path:
        if not blob_id.isalnum():  # ids are ours; anything else is a bug, never a path
            raise StorageError("bad blob id: not one this server made")
        return self.blob_dir / blob_id[:2] / blob_id

    def writer(self) -> FileBlobWriter:
        return FileBlobWriter(self)

    def _manifest(self, blob_id: str) -> Path:
        return self.path(blob_id).with_suffix(".parts")

    def _parts(self, blob_id: str) -> list[tuple[str, int]] | None:
        """The parts of a composed blob, ``None`` for a plain one."""
        try:
            return [(p, int(n)) for p, n in json.loads(self._manifest(blob_id).read_text())["parts"]]
        except FileNotFoundError:
            return None

    def open(self, blob_id: str) -> BinaryIO:
        try:
            parts = self._parts(blob_id)
            if parts is None:
                return open(self.path(blob_id), "rb")  # noqa: SIM115 - the caller owns the handle
            reader = ChainedReader([self.path(p) for p, _ in parts], [n for _, n in parts])
            return io.BufferedReader(reader, buffer_size=256 * 1024)  # type: ignore[return-value]
        except OSError as exc:
            raise _failure("could not read the object", exc) from exc
        except (ValueError, KeyError) as exc:
            raise StorageError("could not read the object: its parts list is damaged") from exc

    def compose(self, blob_ids: Sequence[str]) -> BlobInfo:
        try:
            parts = [(b, self.path(b).stat().st_size) for b in blob_ids]
        except OSError as exc:
            raise _failure("could not put the parts together", exc) from exc
        blob_id = new_blob_id()
        target = self._manifest(blob_id)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.tmp_dir, prefix="parts-")
        except OSError as exc:
            raise _failure("could not put the parts together", exc) from exc
        try:
            with os.fdopen(fd, "w") as out:
                json.dump({"parts": parts}, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise _failure("could not put the parts together", exc) from exc
        return BlobInfo(blob_id, sum(n for _, n in parts), "")

    def decompose(self, blob_id: str) -> None:
        self._manifest(blob_id).unlink(missing_ok=True)

    def copy(self, blob_id: str) -> BlobInfo:
        writer = self.writer()
        try:
            parts = self._parts(blob_id)
            for part in [p for p, _ in parts] if parts is not None else [blob_id]:
                writer.append_file(self.path(part))
            info = writer.commit()
        except OSError as exc:
            writer.abort()
            raise _failure("could not copy the object", exc) from exc
        except BaseException:
            writer.abort()
            raise
        return BlobInfo(info.blob_id, info.size, "")

    def delete(self, blob_id: str) -> None:
        for part, _ in self._parts(blob_id) or ():
            self.path(part).unlink(missing_ok=True)
        self._manifest(blob_id).unlink(missing_ok=True)
        self.path(blob_id).unlink(missing_ok=True)

    def exists(self, blob_id: str) -> bool:
        return self.path(blob_id).is_file() or self._manifest(blob_id).is_file()

    def sweep(self) -> int:
        removed = 0
        for leftover in self.tmp_dir.iterdir():
            leftover.unlink(missing_ok=True)
            removed += 1
        return removed
