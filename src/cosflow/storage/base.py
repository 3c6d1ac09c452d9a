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

    def reserve_held(self) -> bool:
        """Whether the disk space kept for deletes on a full disk is held now: no I/O, safe to call
        on the event loop before every write (only :meth:`hold_reserve` needs a worker thread)."""
        ...

    def hold_reserve(self) -> bool:
        """Make sure that space is held (allocating it if it was given up); ``False`` when there is
        not that much room, or while it is lent (:meth:`lend_reserve`), and new data must then be
        refused (:class:`~cosflow.errors.InsufficientStorage`). A store with no disk of its own
        holds nothing and answers ``True``. Blocking."""
        ...

    def lend_reserve(self) -> bool:
        """Give that space to an operation that frees space (a delete) or records an outcome, to
        commit on a full disk; ``True`` when that is worth a retry, and then :meth:`return_reserve`
        must follow once the retry is over. Blocking."""
        ...

    def return_reserve(self) -> None:
        """The end of one :meth:`lend_reserve`: the last borrower allocates the space again, out of
        what the operation freed, before anything else can take it. Blocking."""
        ...

    def close(self) -> None:
        """Let go of what the store holds open (the server stops); the stored data stays."""
        ...


class NoDiskReserve:
    """The reserve half of :class:`BlobStore` for a store with no local disk of its own (memory,
    S3): nothing is held back, writes are never refused for local room, and no delete borrows."""

    def reserve_held(self) -> bool:
        return True

    def hold_reserve(self) -> bool:
        return True

    def lend_reserve(self) -> bool:
        return False

    def return_reserve(self) -> None:
        return None

    def close(self) -> None:
        return None
