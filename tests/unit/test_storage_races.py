"""Regression tests for review findings (data safety in the object/multipart services and storage).

Each test states what a user would hit. They use the real filesystem blob store, as production does,
and the S3 store against moto's S3 server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import Engine

from cosflow.db import objects as object_rows
from cosflow.db.engine import make_engine, migrate
from cosflow.domain.records import ObjectAttrs
from cosflow.errors import NoSuchUpload
from cosflow.services import garbage
from cosflow.services.buckets import BucketService
from cosflow.services.multipart import MultipartService, RequestedPart
from cosflow.services.objects import ObjectService
from cosflow.settings import KeyPair, Settings
from cosflow.storage.base import BlobStore
from cosflow.storage.filesystem import FileBlobStore
from cosflow.storage.s3 import S3BlobStore
from tests.support.moto import TEST_PART_BYTES, MotoServer

BUCKET = "b-1250000000"
PART = 8


@pytest.fixture(params=["filesystem", "s3"])
def world(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Engine, BlobStore, ObjectService, MultipartService]]:
    settings = Settings(
        data_dir=tmp_path, credentials=(KeyPair("AKIDunit", "unitkey"),), min_part_bytes=PART, max_object_bytes=10_000
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'cosflow.db'}")
    migrate(engine)
    store: BlobStore
    if request.param == "s3":
        moto: MotoServer = request.getfixturevalue("moto_s3")
        store = S3BlobStore(moto.client(), moto.new_bucket(), part_bytes=TEST_PART_BYTES)
    else:
        store = FileBlobStore(tmp_path / "store")
    anyio.run(BucketService(engine, settings).create, BUCKET, None)
    yield engine, store, ObjectService(engine, store, settings), MultipartService(engine, store, settings)
    engine.dispose()


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _read(objects: ObjectService, key: str) -> bytes:
    obj, reader = await objects.open(BUCKET, key)
    return b"".join([c async for c in objects.stream(reader, None, obj.size)])


async def _multipart(mp: MultipartService, key: str, parts: list[bytes]) -> tuple[str, list[RequestedPart]]:
    upload = await mp.initiate(BUCKET, key, ObjectAttrs())
    requested = []
    for n, data in enumerate(parts, 1):
        part = await mp.upload_part(
            BUCKET, key, upload.upload_id, n, _body(data), content_length=len(data), content_md5=None
        )
        requested.append(RequestedPart(n, part.etag))
    return upload.upload_id, requested


def test_get_of_a_multipart_object_survives_a_concurrent_overwrite(world: Any) -> None:
    """GET opened the object, then a PUT replaced it: the GET must still stream the old bytes
    (as it does for a plain object, whose open file survives the unlink)."""
    _, _, objects, mp = world

    async def go() -> bytes:
        upload_id, requested = await _multipart(mp, "video.mp4", [b"a" * PART, b"b" * PART])
        await mp.complete(BUCKET, "video.mp4", upload_id, requested)
        obj, reader = await objects.open(BUCKET, "video.mp4")  # GET: row read, reader opened
        await objects.put(BUCKET, "video.mp4", _body(b"new"), ObjectAttrs(), content_length=3, content_md5=None)
        return b"".join([c async for c in objects.stream(reader, None, obj.size)])

    assert anyio.run(go) == b"a" * PART + b"b" * PART


def test_failed_cleanup_after_commit_does_not_delete_the_committed_blob(world: Any, monkeypatch: Any) -> None:
    """If the garbage sweep that follows a successful PUT's commit fails (busy database, EIO on
    an old blob), the new object's blob must not be deleted: its row is already committed."""
    _, store, objects, _ = world
    real = garbage.collect
    calls = {"n": 0}

    def flaky(engine: Engine, s: BlobStore) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("simulated EIO while deleting an old blob")
        return real(engine, s)

    monkeypatch.setattr(garbage, "collect", flaky)

    async def go() -> bytes:
        await objects.put(BUCKET, "k", _body(b"v1"), ObjectAttrs(), content_length=2, content_md5=None)
        # The PUT's commit succeeded: a failed sweep afterwards must neither fail it nor delete v2.
        await objects.put(BUCKET, "k", _body(b"v2"), ObjectAttrs(), content_length=2, content_md5=None)
        return await _read(objects, "k")

    assert anyio.run(go) == b"v2"
    assert calls["n"] >= 2  # the sweep did fail once, and v1's blob stays listed for later
    with world[0].connect() as conn:
        assert len(object_rows.garbage_ids(conn)) == 1


def test_concurrent_duplicate_complete_keeps_the_object_readable(world: Any) -> None:
    """Two CompleteMultipartUpload calls for one upload (an SDK retry racing the first): the object
    must stay readable. Transactions take SQLite's write lock up front, so the second sees the
    upload gone (NoSuchUpload) instead of replacing the object and collecting its shared parts."""
    _, _, objects, mp = world
    data = [b"a" * PART, b"b" * PART]

    async def go(round_number: int) -> tuple[bytes, list[Any]]:
        key = f"big-{round_number}.bin"
        upload_id, requested = await _multipart(mp, key, data)
        outcomes: list[Any] = []

        async def one() -> None:
            try:
                outcomes.append(await mp.complete(BUCKET, key, upload_id, requested))
            except Exception as exc:  # the loser may fail (NoSuchUpload); that is fine
                outcomes.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(one)
            tg.start_soon(one)
        return await _read(objects, key), outcomes

    for round_number in range(5):
        body, outcomes = anyio.run(go, round_number)
        assert body == b"".join(data)
        assert sum(not isinstance(o, Exception) for o in outcomes) >= 1
        assert all(isinstance(o, NoSuchUpload) for o in outcomes if isinstance(o, Exception))
