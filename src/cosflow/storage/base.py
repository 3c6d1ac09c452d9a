"""The blob store seam: bytes in, an opaque blob id out.

Object keys never become file names: the database maps ``(bucket, key)`` to a random blob id, so
no key (``..``, ``//``, 850-byte unicode names) can reach outside the store, and an overwrite is a
new blob plus one row update, never a half-written file in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class BlobInfo:
    blob_id: str
    size: int
    md5_hex: str


class BlobWriter(Protocol):
    def write(self, data: bytes) -> None: ...

    def commit(self) -> BlobInfo:
        """Make the bytes durable and visible under a new blob id."""
        ...

    def abort(self) -> None:
        """Discard everything written; safe to call after commit or twice."""
        ...


class BlobStore(Protocol):
    def writer(self) -> BlobWriter: ...

    def open(self, blob_id: str) -> BinaryIO:
        """A seekable binary reader; the caller closes it."""
        ...

    def compose(self, blob_ids: Sequence[str]) -> BlobInfo:
        """A new blob reading as the given blobs back to back, without copying them (multipart
        completion). The new blob owns the parts: deleting it deletes them, and they must not be
        deleted on their own. ``md5_hex`` is empty (ETags come from the parts).
        """
        ...

    def decompose(self, blob_id: str) -> None:
        """Undo :meth:`compose` (when the completion could not be recorded): the parts survive."""
        ...

    def copy(self, blob_id: str) -> BlobInfo:
        """An independent copy of a blob (Copy Object). ``md5_hex`` is empty."""
        ...

    def delete(self, blob_id: str) -> None:
        """Remove a blob; a missing blob is not an error."""
        ...

    def exists(self, blob_id: str) -> bool: ...

    def sweep(self) -> int:
        """Remove leftovers of interrupted writes; returns how many were removed."""
        ...

    def hold_reserve(self) -> bool:
        """Make sure the disk space kept for deletes on a full disk is held (allocating it if it
        was given up); ``False`` when there is not that much room, and new data must then be
        refused (:class:`~cosflow.errors.InsufficientStorage`). A store with no disk of its own
        holds nothing and answers ``True``."""
        ...

    def release_reserve(self) -> bool:
        """Give that space back so an operation that frees space can commit on a full disk;
        ``True`` when something was freed (then retry the operation once)."""
        ...
