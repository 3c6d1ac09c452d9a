"""Object use cases: put, read, delete, copy, list."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import BinaryIO, Protocol, TypeVar

from anyio import to_thread
from sqlalchemy import Connection, Engine

from cosflow.db import buckets as bucket_rows
from cosflow.db import objects as object_rows
from cosflow.domain import times
from cosflow.domain.listing import Page, build_page
from cosflow.domain.names import validate_key
from cosflow.domain.ranges import ByteRange
from cosflow.domain.records import ObjectAttrs, StoredObject
from cosflow.errors import EntityTooSmall, InsufficientStorage, NoSuchBucket, NoSuchKey, StorageError
from cosflow.services import garbage, space, transfer
from cosflow.settings import Settings
from cosflow.storage.base import BlobInfo, BlobStore

log = logging.getLogger(__name__)
T = TypeVar("T")
READ_CHUNK = 1024 * 1024


class WriteHook(Protocol):
    """Told about every object a client writes (not workflow outputs), inside its transaction."""

    def on_object_written(self, conn: Connection, obj: StoredObject) -> int: ...

    def after_commit(self) -> None: ...


class NoHook:
    def on_object_written(self, conn: Connection, obj: StoredObject) -> int:
        return 0

    def after_commit(self) -> None:
        return None


@dataclass(frozen=True)
class DeleteOutcome:
    key: str
    error: Exception | None = None


class ObjectService:
    def __init__(self, engine: Engine, store: BlobStore, settings: Settings, hook: WriteHook | None = None) -> None:
        self._engine = engine
        self._store = store
        self._settings = settings
        self.hook: WriteHook = hook or NoHook()

    # --- helpers ------------------------------------------------------------------------------
    async def _tx(self, fn: Callable[[Connection], T], *, frees: bool = False) -> T:
        """Run ``fn`` in one transaction in a worker thread, then collect orphaned blobs. One that
        ``frees`` space (a delete) still commits on a full disk (:func:`space.with_room`), and the
        blobs it freed give the reserve its room back."""

        def run() -> T:
            with self._engine.begin() as conn:
                result = fn(conn)
            garbage.collect_after_commit(self._engine, self._store)
            return result

        if frees:
            return await to_thread.run_sync(space.with_room, self._store, run)
        return await to_thread.run_sync(run)

    async def _read(self, fn: Callable[[Connection], T]) -> T:
        def run() -> T:
            with self._engine.connect() as conn:
                return fn(conn)

        return await to_thread.run_sync(run)

    @staticmethod
    def _require_bucket(conn: Connection, bucket: str) -> None:
        if bucket_rows.get(conn, bucket) is None:
            raise NoSuchBucket(resource=bucket)

    async def commit_blob(
        self, bucket: str, key: str, info: BlobInfo, etag: str, attrs: ObjectAttrs, *, trigger: bool = True
    ) -> StoredObject:
        """Point ``(bucket, key)`` at a freshly written blob and, in the same transaction, start the
        workflows the upload triggers; the blob is dropped if that fails."""
        obj = StoredObject(bucket, key, info.blob_id, info.size, etag, times.now(), attrs)

        def write(conn: Connection) -> int:
            self._require_bucket(conn, bucket)
            object_rows.put(conn, obj)
            return self.hook.on_object_written(conn, obj) if trigger else 0

        try:
            started = await self._tx(write)
        except BaseException:
            await to_thread.run_sync(self._store.delete, info.blob_id)
            raise
        if started:
            self.hook.after_commit()
        return obj

    # --- use cases ----------------------------------------------------------------------------
    async def put(
        self,
        bucket: str,
        key: str,
        body: AsyncIterator[bytes],
        attrs: ObjectAttrs,
        *,
        content_length: int | None,
        content_md5: str | None,
        trigger: bool = True,
        size_range: tuple[int, int] | None = None,
    ) -> StoredObject:
        """Store an object. ``trigger=False`` for workflow outputs: they never start workflows.
        ``size_range`` (a form policy's content-length-range) is enforced while the body streams."""
        validate_key(key)
        await self._read(lambda conn: self._require_bucket(conn, bucket))
        low, high = size_range or (0, self._settings.max_object_bytes)
        info = await transfer.receive(
            self._store,
            body,
            max_bytes=min(high, self._settings.max_object_bytes),
            content_length=content_length,
            content_md5=content_md5,
        )
        if info.size < low:
            await to_thread.run_sync(self._store.delete, info.blob_id)
            raise EntityTooSmall(f"the body is {info.size} bytes; the policy needs at least {low}")
        obj = await self.commit_blob(bucket, key, info, info.md5_hex, attrs, trigger=trigger)
        log.info("object stored", extra={"action": "put_object", "bucket": bucket, "size": obj.size})
        return obj

    async def head(self, bucket: str, key: str) -> StoredObject:
        def run(conn: Connection) -> StoredObject:
            obj = object_rows.get(conn, bucket, key)
            if obj is None:
                self._require_bucket(conn, bucket)
                raise NoSuchKey(resource=f"{bucket}/{key}")
            return obj

        return await self._read(run)

    async def open(self, bucket: str, key: str) -> tuple[StoredObject, BinaryIO]:
        """The object's row and an open reader; retried once if an overwrite raced the open."""
        for attempt in range(2):
            obj = await self.head(bucket, key)
            try:
                return obj, await to_thread.run_sync(self._store.open, obj.blob_id)
            except StorageError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    async def stream(reader: BinaryIO, byte_range: ByteRange | None, size: int) -> AsyncIterator[bytes]:
        """Yield the selected bytes in bounded chunks, closing the reader at the end."""
        start, remaining = (byte_range.start, byte_range.length) if byte_range else (0, size)
        try:
            await to_thread.run_sync(reader.seek, start)
            while remaining > 0:
                chunk = await to_thread.run_sync(reader.read, min(READ_CHUNK, remaining))
                if not chunk:
                    raise StorageError("the blob is shorter than its recorded size")
                remaining -= len(chunk)
                yield chunk
        finally:
            reader.close()

    async def delete(self, bucket: str, key: str) -> None:
        def run(conn: Connection) -> None:
            self._require_bucket(conn, bucket)
            object_rows.remove(conn, bucket, key)

        await self._tx(run, frees=True)

    async def delete_many(self, bucket: str, keys: list[str]) -> list[DeleteOutcome]:
        def run(conn: Connection) -> list[DeleteOutcome]:
            self._require_bucket(conn, bucket)
            outcomes = []
            for key in keys:
                try:
                    validate_key(key)
                    object_rows.remove(conn, bucket, key)
                    outcomes.append(DeleteOutcome(key))
                except InsufficientStorage:
                    raise  # the whole transaction is lost: retried with the reserve given up
                except Exception as exc:  # reported per key, as COS does
                    outcomes.append(DeleteOutcome(key, exc))
            return outcomes

        return await self._tx(run, frees=True)

    async def copy(self, source: StoredObject, bucket: str, key: str, attrs: ObjectAttrs | None) -> StoredObject:
        """Copy ``source`` (as the caller read it); ``attrs=None`` keeps its metadata (directive
        Copy). If an overwrite raced the copy and its blob is gone, the current version is copied."""
        validate_key(key)
        await space.require_room(self._store)
        try:
            info = await to_thread.run_sync(self._store.copy, source.blob_id)
        except StorageError:
            source = await self.head(source.bucket, source.key)
            info = await to_thread.run_sync(self._store.copy, source.blob_id)
        return await self.commit_blob(bucket, key, info, source.etag, attrs or source.attrs)

    async def list(self, bucket: str, prefix: str, delimiter: str, marker: str, max_keys: int) -> Page[StoredObject]:
        def run(conn: Connection) -> Page[StoredObject]:
            self._require_bucket(conn, bucket)

            def fetch(after: str, limit: int) -> list[tuple[str, StoredObject]]:
                return [(o.key, o) for o in object_rows.page(conn, bucket, prefix, after, limit)]

            return build_page(fetch, prefix, delimiter, marker, max_keys)

        return await self._read(run)
