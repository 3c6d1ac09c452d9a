"""Multipart uploads: initiate, upload parts, list, complete (ETag-checked), abort."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from anyio import to_thread
from sqlalchemy import Connection, Engine

from cosflow.db import buckets as bucket_rows
from cosflow.db import objects as object_rows
from cosflow.db import uploads as upload_rows
from cosflow.domain import times
from cosflow.domain.names import validate_key
from cosflow.domain.records import ObjectAttrs, Part, StoredObject, Upload
from cosflow.errors import (
    EntityTooSmall,
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    NoSuchBucket,
    NoSuchUpload,
    StorageError,
)
from cosflow.ids import upload_id as new_upload_id
from cosflow.services import garbage, space, transfer
from cosflow.services.objects import NoHook, WriteHook
from cosflow.settings import Settings
from cosflow.storage.base import BlobStore

MAX_PART_NUMBER = 10000


@dataclass(frozen=True)
class RequestedPart:
    part_number: int
    etag: str


def multipart_etag(part_etags: Sequence[str]) -> str:
    """S3/COS style: md5 of the concatenated binary part digests, ``-<count>``."""
    digest = hashlib.md5(b"".join(bytes.fromhex(e) for e in part_etags)).hexdigest()
    return f"{digest}-{len(part_etags)}"


class MultipartService:
    def __init__(self, engine: Engine, store: BlobStore, settings: Settings, hook: WriteHook | None = None) -> None:
        self._engine = engine
        self._store = store
        self._settings = settings
        self._hook: WriteHook = hook or NoHook()

    def _upload(self, conn: Connection, bucket: str, key: str, upload_id: str, *, lock: bool = False) -> Upload:
        upload = upload_rows.get(conn, upload_id, lock=lock)
        if upload is None or upload.bucket != bucket or upload.key != key:
            raise NoSuchUpload(resource=upload_id)
        return upload

    async def initiate(self, bucket: str, key: str, attrs: ObjectAttrs) -> Upload:
        validate_key(key)
        upload = Upload(new_upload_id(), bucket, key, times.now(), attrs)

        def run() -> None:
            with self._engine.begin() as conn:
                if bucket_rows.get(conn, bucket) is None:
                    raise NoSuchBucket(resource=bucket)
                upload_rows.create(conn, upload)

        await to_thread.run_sync(run)
        return upload

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        body: AsyncIterator[bytes],
        *,
        content_length: int | None,
        content_md5: str | None,
    ) -> Part:
        if not 1 <= part_number <= MAX_PART_NUMBER:
            raise InvalidArgument(f"partNumber must be 1..{MAX_PART_NUMBER}", resource="partNumber")
        await self.get_upload(bucket, key, upload_id)
        info = await transfer.receive(
            self._store,
            body,
            max_bytes=self._settings.max_object_bytes,
            content_length=content_length,
            content_md5=content_md5,
        )
        part = Part(part_number, info.blob_id, info.size, info.md5_hex, times.now())

        def run() -> None:
            with self._engine.begin() as conn:
                self._upload(conn, bucket, key, upload_id, lock=True)
                upload_rows.put_part(conn, upload_id, part)
            garbage.collect_after_commit(self._engine, self._store)

        try:
            await to_thread.run_sync(run)
        except BaseException:
            await to_thread.run_sync(self._store.delete, info.blob_id)
            raise
        return part

    async def get_upload(self, bucket: str, key: str, upload_id: str) -> Upload:
        def run() -> Upload:
            with self._engine.connect() as conn:
                return self._upload(conn, bucket, key, upload_id)

        return await to_thread.run_sync(run)

    async def list_parts(self, bucket: str, key: str, upload_id: str) -> tuple[Upload, list[Part]]:
        def run() -> tuple[Upload, list[Part]]:
            with self._engine.connect() as conn:
                return self._upload(conn, bucket, key, upload_id), upload_rows.list_parts(conn, upload_id)

        return await to_thread.run_sync(run)

    async def list_uploads(self, bucket: str, prefix: str) -> list[Upload]:
        def run() -> list[Upload]:
            with self._engine.connect() as conn:
                if bucket_rows.get(conn, bucket) is None:
                    raise NoSuchBucket(resource=bucket)
                return upload_rows.list_for_bucket(conn, bucket, prefix)

        return await to_thread.run_sync(run)

    def _chosen_parts(self, stored: list[Part], requested: Sequence[RequestedPart]) -> list[Part]:
        if not requested:
            raise InvalidArgument("CompleteMultipartUpload names no parts")
        numbers = [r.part_number for r in requested]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            raise InvalidPartOrder()
        by_number = {p.part_number: p for p in stored}
        chosen = []
        for req in requested:
            part = by_number.get(req.part_number)
            if part is None or part.etag != req.etag.strip().strip('"').lower():
                raise InvalidPart(f"part {req.part_number} was not uploaded with ETag {req.etag}")
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < self._settings.min_part_bytes:
                raise EntityTooSmall(
                    f"part {part.part_number} is {part.size} bytes; all parts but the last need "
                    f"{self._settings.min_part_bytes}"
                )
        return chosen

    async def complete(self, bucket: str, key: str, upload_id: str, requested: Sequence[RequestedPart]) -> StoredObject:
        upload, stored = await self.list_parts(bucket, key, upload_id)
        chosen = self._chosen_parts(stored, requested)
        try:
            info = await to_thread.run_sync(self._store.compose, [p.blob_id for p in chosen])
        except StorageError as exc:  # most likely a part re-uploaded (its old blob collected) meanwhile
            raise InvalidPart(f"{exc.message}; if a part was uploaded again meanwhile, retry") from exc
        etag = multipart_etag([p.etag for p in chosen])
        obj = StoredObject(bucket, key, info.blob_id, info.size, etag, times.now(), upload.attrs)

        def run() -> int:
            with self._engine.begin() as conn:
                self._upload(conn, bucket, key, upload_id, lock=True)  # not completed or aborted meanwhile
                current = {p.part_number: p.blob_id for p in upload_rows.list_parts(conn, upload_id)}
                changed = [p.part_number for p in chosen if current.get(p.part_number) != p.blob_id]
                if changed:
                    raise InvalidPart(f"part {changed[0]} was uploaded again while completing; retry")
                object_rows.put(conn, obj)
                # The chosen parts now belong to the object; parts not named become garbage.
                upload_rows.remove(conn, upload_id, keep_blobs=frozenset(p.blob_id for p in chosen))
                started = self._hook.on_object_written(conn, obj)
            garbage.collect_after_commit(self._engine, self._store)
            return started

        try:
            started = await to_thread.run_sync(run)
        except BaseException:
            await to_thread.run_sync(self._store.decompose, info.blob_id)  # the upload keeps its parts
            raise
        if started:
            self._hook.after_commit()
        return obj

    async def abort(self, bucket: str, key: str, upload_id: str) -> None:
        def run() -> None:  # frees its parts' space, so it still commits on a full disk
            with self._engine.begin() as conn:
                self._upload(conn, bucket, key, upload_id, lock=True)
                upload_rows.remove(conn, upload_id)
            garbage.collect_after_commit(self._engine, self._store)

        await to_thread.run_sync(space.with_room, self._store, run)
