"""Bucket use cases."""

from __future__ import annotations

from anyio import to_thread
from sqlalchemy import Engine

from cosflow.db import buckets as bucket_rows
from cosflow.domain import times
from cosflow.domain.names import validate_bucket_name
from cosflow.domain.records import ACLS, Bucket
from cosflow.errors import BucketNotEmpty, InvalidArgument, NoSuchBucket
from cosflow.settings import Settings


def check_acl(acl: str | None) -> str:
    acl = (acl or "private").strip().lower()
    if acl not in ACLS:
        raise InvalidArgument(f"x-cos-acl must be one of {', '.join(ACLS)}", resource="x-cos-acl")
    return acl


class BucketService:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings

    def _get(self, name: str) -> Bucket:
        with self._engine.connect() as conn:
            bucket = bucket_rows.get(conn, name)
        if bucket is None:
            raise NoSuchBucket(resource=name)
        return bucket

    async def get(self, name: str) -> Bucket:
        return await to_thread.run_sync(self._get, name)

    async def find(self, name: str) -> Bucket | None:
        def run() -> Bucket | None:
            with self._engine.connect() as conn:
                return bucket_rows.get(conn, name)

        return await to_thread.run_sync(run)

    async def list(self) -> list[Bucket]:
        def run() -> list[Bucket]:
            with self._engine.connect() as conn:
                return bucket_rows.list_all(conn)

        return await to_thread.run_sync(run)

    async def names(self, limit: int) -> list[str]:
        """Up to ``limit`` bucket names, in name order (one query, names only)."""

        def run() -> list[str]:
            with self._engine.connect() as conn:
                return bucket_rows.names(conn, limit)

        return await to_thread.run_sync(run)

    async def create(self, name: str, acl: str | None) -> Bucket:
        bucket = Bucket(validate_bucket_name(name, self._settings.appid), check_acl(acl), times.now())

        def run() -> None:
            with self._engine.begin() as conn:
                bucket_rows.create(conn, bucket)

        await to_thread.run_sync(run)
        return bucket

    async def set_acl(self, name: str, acl: str | None) -> None:
        value = check_acl(acl)

        def run() -> None:
            with self._engine.begin() as conn:
                if bucket_rows.get(conn, name) is None:
                    raise NoSuchBucket(resource=name)
                bucket_rows.set_acl(conn, name, value)

        await to_thread.run_sync(run)

    async def delete(self, name: str) -> None:
        def run() -> None:
            with self._engine.begin() as conn:
                if bucket_rows.get(conn, name) is None:
                    raise NoSuchBucket(resource=name)
                if not bucket_rows.is_empty(conn, name):
                    raise BucketNotEmpty(resource=name)
                bucket_rows.remove(conn, name)

        await to_thread.run_sync(run)
