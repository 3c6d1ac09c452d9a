"""Object and multipart use cases over a real SQLite file and the in-memory blob store.

The point of most tests: whatever happens, the blob store ends up holding exactly the blobs that
rows point to — no orphan after an overwrite, a failed upload, a completion or an abort.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from sqlalchemy import Engine

from cosflow.db import objects as object_rows
from cosflow.db.engine import make_engine, migrate
from cosflow.domain.records import ObjectAttrs, StoredObject
from cosflow.errors import (
    BadDigest,
    EntityTooLarge,
    EntityTooSmall,
    IncompleteBody,
    InvalidDigest,
    InvalidPart,
    InvalidPartOrder,
    KeyTooLong,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
)
from cosflow.services.buckets import BucketService
from cosflow.services.multipart import MultipartService, RequestedPart
from cosflow.services.objects import ObjectService
from cosflow.settings import KeyPair, Settings
from cosflow.storage.memory import MemoryBlobStore

T = TypeVar("T")
BUCKET = "b-1250000000"
MIN_PART = 8


@dataclass
class World:
    engine: Engine
    store: MemoryBlobStore
    objects: ObjectService
    multipart: MultipartService

    def garbage(self) -> list[str]:
        with self.engine.connect() as conn:
            return object_rows.garbage_ids(conn)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    settings = Settings(
        data_dir=tmp_path,
        credentials=(KeyPair("AKIDunit", "unitkey"),),
        min_part_bytes=MIN_PART,
        max_object_bytes=1000,
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'cosflow.db'}")
    migrate(engine)
    store = MemoryBlobStore()
    run(BucketService(engine, settings).create, BUCKET, None)
    yield World(engine, store, ObjectService(engine, store, settings), MultipartService(engine, store, settings))
    engine.dispose()


def run(fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    async def call() -> T:
        return await fn(*args, **kwargs)

    return anyio.run(call)


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def content_md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def put(world: World, key: str, *parts: bytes, length: int | None = -1, md5: str | None = None) -> StoredObject:
    size = sum(len(p) for p in parts) if length == -1 else length
    return run(world.objects.put, BUCKET, key, chunks(*parts), ObjectAttrs(), content_length=size, content_md5=md5)


def read(world: World, key: str) -> bytes:
    async def go() -> bytes:
        obj, reader = await world.objects.open(BUCKET, key)
        return b"".join([c async for c in world.objects.stream(reader, None, obj.size)])

    return anyio.run(go)


# --- put / overwrite / delete -------------------------------------------------------------------------
def test_put_stores_one_blob_with_md5_etag(world: World) -> None:
    obj = put(world, "dir/ü file.txt", b"hello ", b"world")
    assert obj.size == 11
    assert obj.etag == hashlib.md5(b"hello world").hexdigest()
    assert set(world.store.blobs) == {obj.blob_id}
    assert read(world, "dir/ü file.txt") == b"hello world"
    head = run(world.objects.head, BUCKET, "dir/ü file.txt")
    assert (head.blob_id, head.size, head.etag) == (obj.blob_id, 11, obj.etag)


def test_put_with_the_right_content_md5(world: World) -> None:
    obj = put(world, "k", b"payload", md5=content_md5(b"payload"))
    assert obj.etag == hashlib.md5(b"payload").hexdigest()


def test_put_without_content_length(world: World) -> None:
    obj = put(world, "k", b"abc", b"def", length=None)
    assert obj.size == 6
    assert read(world, "k") == b"abcdef"


def test_overwrite_leaves_exactly_one_blob(world: World) -> None:
    first = put(world, "k", b"version one")
    second = put(world, "k", b"version two!")
    assert first.blob_id != second.blob_id
    assert set(world.store.blobs) == {second.blob_id}
    assert world.store.blobs[second.blob_id] == b"version two!"
    assert read(world, "k") == b"version two!"
    assert world.garbage() == []


def test_many_overwrites_and_keys(world: World) -> None:
    for i in range(5):
        put(world, "a", f"a{i}".encode())
        put(world, "b", f"b{i}".encode())
    assert sorted(world.store.blobs.values()) == [b"a4", b"b4"]


def test_delete_collects_the_blob_and_missing_is_fine(world: World) -> None:
    put(world, "k", b"x")
    run(world.objects.delete, BUCKET, "k")
    assert world.store.blobs == {}
    with pytest.raises(NoSuchKey):
        run(world.objects.head, BUCKET, "k")
    run(world.objects.delete, BUCKET, "k")
    run(world.objects.delete, BUCKET, "never-existed")
    assert world.garbage() == []


def test_delete_many_collects_every_blob(world: World) -> None:
    for key in ("a", "b", "c"):
        put(world, key, key.encode())
    outcomes = run(world.objects.delete_many, BUCKET, ["a", "c", "missing", ""])
    assert [(o.key, o.error is None) for o in outcomes] == [("a", True), ("c", True), ("missing", True), ("", False)]
    assert list(world.store.blobs.values()) == [b"b"]


def test_copy_is_an_independent_blob(world: World) -> None:
    source = put(world, "src", b"copy me")
    copy = run(world.objects.copy, source, BUCKET, "dst", None)
    assert copy.blob_id != source.blob_id
    assert copy.etag == source.etag
    run(world.objects.delete, BUCKET, "src")
    assert read(world, "dst") == b"copy me"
    assert set(world.store.blobs) == {copy.blob_id}


def test_list_goes_through_the_database(world: World) -> None:
    for key in ("a/1", "a/2", "b", "c/d/e"):
        put(world, key, b".")
    page = run(world.objects.list, BUCKET, "", "/", "", 1000)
    assert [o.key for o in page.contents] == ["b"]
    assert page.common_prefixes == ["a/", "c/"]
    page = run(world.objects.list, BUCKET, "a/", "", "a/1", 1)
    assert [o.key for o in page.contents] == ["a/2"]
    assert page.is_truncated is False


# --- failed uploads leave nothing --------------------------------------------------------------------
def test_wrong_content_md5_stores_nothing(world: World) -> None:
    with pytest.raises(BadDigest):
        put(world, "k", b"payload", md5=content_md5(b"something else"))
    assert world.store.blobs == {}
    with pytest.raises(NoSuchKey):
        run(world.objects.head, BUCKET, "k")


def test_wrong_content_md5_on_overwrite_keeps_the_old_object(world: World) -> None:
    old = put(world, "k", b"old")
    with pytest.raises(BadDigest):
        put(world, "k", b"new", md5=content_md5(b"other"))
    assert set(world.store.blobs) == {old.blob_id}
    assert read(world, "k") == b"old"


@pytest.mark.parametrize("md5", ["not base64!", base64.b64encode(b"short").decode(), ""])
def test_malformed_content_md5_stores_nothing(world: World, md5: str) -> None:
    with pytest.raises(InvalidDigest):
        put(world, "k", b"payload", md5=md5)
    assert world.store.blobs == {}


def test_body_longer_than_content_length(world: World) -> None:
    with pytest.raises(EntityTooLarge):
        put(world, "k", b"12345", b"678", length=6)
    assert world.store.blobs == {}
    with pytest.raises(NoSuchKey):
        run(world.objects.head, BUCKET, "k")


def test_body_shorter_than_content_length(world: World) -> None:
    with pytest.raises(IncompleteBody):
        put(world, "k", b"1234", b"5", length=6)
    assert world.store.blobs == {}
    with pytest.raises(NoSuchKey):
        run(world.objects.head, BUCKET, "k")


def test_declared_length_over_the_limit(world: World) -> None:
    with pytest.raises(EntityTooLarge):
        put(world, "k", b"x", length=1001)
    assert world.store.blobs == {}


def test_streamed_body_over_the_limit_without_length(world: World) -> None:
    with pytest.raises(EntityTooLarge):
        put(world, "k", b"x" * 600, b"y" * 600, length=None)
    assert world.store.blobs == {}


def test_body_exactly_at_the_limit(world: World) -> None:
    assert put(world, "k", b"z" * 1000).size == 1000


def test_put_into_a_missing_bucket(world: World) -> None:
    with pytest.raises(NoSuchBucket):
        run(world.objects.put, "nope-1250000000", "k", chunks(b"x"), ObjectAttrs(), content_length=1, content_md5=None)
    assert world.store.blobs == {}


def test_key_too_long_stores_nothing(world: World) -> None:
    with pytest.raises(KeyTooLong):
        put(world, "中" * 300, b"x")
    assert world.store.blobs == {}


def test_failed_overwrite_body_keeps_the_old_object(world: World) -> None:
    old = put(world, "k", b"old")
    with pytest.raises(IncompleteBody):
        put(world, "k", b"ne", length=3)
    assert set(world.store.blobs) == {old.blob_id}
    assert read(world, "k") == b"old"


# --- multipart -------------------------------------------------------------------------------------------
PART1 = b"A" * MIN_PART
PART2 = b"B" * MIN_PART
PART3 = b"tail"


def start_upload(world: World, key: str = "big.bin") -> str:
    return run(world.multipart.initiate, BUCKET, key, ObjectAttrs(content_type="video/mp4")).upload_id


def upload_part(world: World, upload_id: str, number: int, data: bytes, key: str = "big.bin", md5: str | None = None):
    return run(
        world.multipart.upload_part,
        BUCKET,
        key,
        upload_id,
        number,
        chunks(data),
        content_length=len(data),
        content_md5=md5,
    )


def expected_multipart_etag(*parts: bytes) -> str:
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f"{digest}-{len(parts)}"


def test_complete_with_a_wrong_etag_raises_invalid_part_and_keeps_the_upload(world: World) -> None:
    upload_id = start_upload(world)
    p1 = upload_part(world, upload_id, 1, PART1)
    p2 = upload_part(world, upload_id, 2, PART2)
    wrong = hashlib.md5(b"not the part").hexdigest()
    with pytest.raises(InvalidPart):
        run(
            world.multipart.complete, BUCKET, "big.bin", upload_id, [RequestedPart(1, p1.etag), RequestedPart(2, wrong)]
        )
    with pytest.raises(InvalidPart):  # a part number never uploaded
        run(
            world.multipart.complete,
            BUCKET,
            "big.bin",
            upload_id,
            [RequestedPart(1, p1.etag), RequestedPart(3, p2.etag)],
        )
    _, parts = run(world.multipart.list_parts, BUCKET, "big.bin", upload_id)
    assert [(p.part_number, p.etag) for p in parts] == [(1, p1.etag), (2, p2.etag)]
    assert set(world.store.blobs) == {p1.blob_id, p2.blob_id}
    with pytest.raises(NoSuchKey):
        run(world.objects.head, BUCKET, "big.bin")


def test_complete_whose_part_blob_vanished_is_invalid_part_not_a_500(world: World) -> None:
    """A part re-uploaded during completion can have its old blob collected before compose."""
    upload_id = start_upload(world)
    p1 = upload_part(world, upload_id, 1, PART1)
    del world.store.blobs[p1.blob_id]  # as if collected after a concurrent re-upload
    with pytest.raises(InvalidPart, match="retry"):
        run(world.multipart.complete, BUCKET, "big.bin", upload_id, [RequestedPart(1, p1.etag)])
    with pytest.raises(NoSuchKey):
        run(world.objects.head, BUCKET, "big.bin")


def test_complete_success_keeps_only_the_assembled_blob(world: World) -> None:
    upload_id = start_upload(world)
    p1 = upload_part(world, upload_id, 1, PART1)
    p2 = upload_part(world, upload_id, 2, PART2)
    p3 = upload_part(world, upload_id, 3, PART3)
    requested = [RequestedPart(1, f'"{p1.etag}"'), RequestedPart(2, p2.etag.upper()), RequestedPart(3, p3.etag)]
    obj = run(world.multipart.complete, BUCKET, "big.bin", upload_id, requested)

    assert obj.size == len(PART1 + PART2 + PART3)
    assert obj.etag == expected_multipart_etag(PART1, PART2, PART3)
    assert obj.attrs.content_type == "video/mp4"
    assert world.store.composed[obj.blob_id] == [p1.blob_id, p2.blob_id, p3.blob_id]
    assert set(world.store.blobs) == {obj.blob_id, p1.blob_id, p2.blob_id, p3.blob_id}
    assert read(world, "big.bin") == PART1 + PART2 + PART3
    assert world.garbage() == []
    with pytest.raises(NoSuchUpload):
        run(world.multipart.list_parts, BUCKET, "big.bin", upload_id)


def test_complete_with_a_subset_of_parts_drops_the_others(world: World) -> None:
    upload_id = start_upload(world)
    p1 = upload_part(world, upload_id, 1, PART1)
    upload_part(world, upload_id, 2, PART2)
    p3 = upload_part(world, upload_id, 3, PART3)
    obj = run(
        world.multipart.complete, BUCKET, "big.bin", upload_id, [RequestedPart(1, p1.etag), RequestedPart(3, p3.etag)]
    )
    assert read(world, "big.bin") == PART1 + PART3
    assert set(world.store.blobs) == {obj.blob_id, p1.blob_id, p3.blob_id}  # part 2 collected


def test_complete_over_an_existing_object_collects_its_blob(world: World) -> None:
    put(world, "big.bin", b"old object")
    upload_id = start_upload(world)
    p1 = upload_part(world, upload_id, 1, PART3)
    obj = run(world.multipart.complete, BUCKET, "big.bin", upload_id, [RequestedPart(1, p1.etag)])
    assert set(world.store.blobs) == {obj.blob_id, p1.blob_id}
    assert read(world, "big.bin") == PART3
    run(world.objects.delete, BUCKET, "big.bin")
    assert world.store.blobs == {}  # deleting a multipart object deletes its parts


def test_reuploading_a_part_collects_the_old_blob(world: World) -> None:
    upload_id = start_upload(world)
    first = upload_part(world, upload_id, 1, PART1)
    second = upload_part(world, upload_id, 1, PART2)
    assert set(world.store.blobs) == {second.blob_id}
    _, parts = run(world.multipart.list_parts, BUCKET, "big.bin", upload_id)
    assert [p.etag for p in parts] == [second.etag]
    with pytest.raises(InvalidPart):
        run(world.multipart.complete, BUCKET, "big.bin", upload_id, [RequestedPart(1, first.etag)])


def test_part_with_a_wrong_md5_is_not_recorded(world: World) -> None:
    upload_id = start_upload(world)
    with pytest.raises(BadDigest):
        upload_part(world, upload_id, 1, PART1, md5=content_md5(PART2))
    _, parts = run(world.multipart.list_parts, BUCKET, "big.bin", upload_id)
    assert parts == []
    assert world.store.blobs == {}


def test_small_middle_part_is_entity_too_small_and_keeps_the_upload(world: World) -> None:
    upload_id = start_upload(world)
    p1 = upload_part(world, upload_id, 1, PART3)  # below MIN_PART and not last
    p2 = upload_part(world, upload_id, 2, PART1)
    with pytest.raises(EntityTooSmall):
        run(
            world.multipart.complete,
            BUCKET,
            "big.bin",
            upload_id,
            [RequestedPart(1, p1.etag), RequestedPart(2, p2.etag)],
        )
    assert set(world.store.blobs) == {p1.blob_id, p2.blob_id}
    run(world.multipart.get_upload, BUCKET, "big.bin", upload_id)


@pytest.mark.parametrize("order", [[2, 1], [1, 1]])
def test_unsorted_or_repeated_parts(world: World, order: list[int]) -> None:
    upload_id = start_upload(world)
    parts = {n: upload_part(world, upload_id, n, PART1) for n in (1, 2)}
    with pytest.raises(InvalidPartOrder):
        run(world.multipart.complete, BUCKET, "big.bin", upload_id, [RequestedPart(n, parts[n].etag) for n in order])
    assert len(world.store.blobs) == 2


def test_abort_removes_every_part_blob(world: World) -> None:
    put(world, "other", b"unrelated")
    upload_id = start_upload(world)
    upload_part(world, upload_id, 1, PART1)
    upload_part(world, upload_id, 2, PART2)
    run(world.multipart.abort, BUCKET, "big.bin", upload_id)
    assert list(world.store.blobs.values()) == [b"unrelated"]
    with pytest.raises(NoSuchUpload):
        run(world.multipart.get_upload, BUCKET, "big.bin", upload_id)


def test_upload_id_is_bound_to_its_key(world: World) -> None:
    upload_id = start_upload(world, "one")
    with pytest.raises(NoSuchUpload):
        upload_part(world, upload_id, 1, PART1, key="two")
    assert world.store.blobs == {}


def test_copy_of_a_source_overwritten_meanwhile_copies_the_current_version(world: World) -> None:
    """Copy Object reads the source once (for its preconditions); if an overwrite then collects
    that version's blob, the copy takes the current version rather than failing with a 500."""
    old = put(world, "src", b"first version")
    put(world, "src", b"second version")
    assert old.blob_id not in world.store.blobs  # collected
    copied = run(world.objects.copy, old, BUCKET, "dst", None)
    assert read(world, "dst") == b"second version"
    assert copied.etag == hashlib.md5(b"second version").hexdigest()
