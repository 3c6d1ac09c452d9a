"""The blob stores (``storage.filesystem``, ``storage.memory`` and ``storage.s3`` against moto's S3
server), held to the same behaviour."""

from __future__ import annotations

import errno
import gc
import hashlib
import threading
import warnings
from pathlib import Path

import pytest

from cosflow.errors import StorageError
from cosflow.storage.base import BlobStore
from cosflow.storage.filesystem import FileBlobStore
from cosflow.storage.memory import MemoryBlobStore
from cosflow.storage.s3 import S3BlobStore
from tests.support.moto import TEST_PART_BYTES, MotoServer

Store = FileBlobStore | MemoryBlobStore | S3BlobStore


@pytest.fixture(params=["filesystem", "memory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "filesystem":
        return FileBlobStore(tmp_path / "storage")
    if request.param == "s3":
        moto: MotoServer = request.getfixturevalue("moto_s3")
        # stale_upload_seconds=0: sweep treats every unfinished upload as a dead writer's
        return S3BlobStore(moto.client(), moto.new_bucket(), "p/", part_bytes=TEST_PART_BYTES, stale_upload_seconds=0)
    return MemoryBlobStore()


def stored_blob_count(store: Store) -> int:
    if isinstance(store, FileBlobStore):
        return sum(1 for p in store.blob_dir.rglob("*") if p.is_file())
    if isinstance(store, S3BlobStore):
        return store.client.list_objects_v2(Bucket=store.bucket)["KeyCount"]  # type: ignore[no-any-return]
    return len(store.blobs)


def temp_files(store: Store) -> list[object]:
    """What an unfinished write holds: temp files, or S3 multipart uploads not yet complete."""
    if isinstance(store, S3BlobStore):
        return store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])  # type: ignore[no-any-return]
    return sorted(store.tmp_dir.iterdir()) if isinstance(store, FileBlobStore) else []


def put(store: BlobStore, *chunks: bytes) -> str:
    writer = store.writer()
    for chunk in chunks:
        writer.write(chunk)
    return writer.commit().blob_id


def read(store: BlobStore, blob_id: str) -> bytes:
    with store.open(blob_id) as reader:
        return reader.read()


# --- write and commit ------------------------------------------------------------------------------------
def test_write_commit_returns_size_and_md5(store: Store) -> None:
    writer = store.writer()
    writer.write(b"hello ")
    writer.write(b"")
    writer.write(b"world")
    info = writer.commit()
    assert info.size == 11
    assert info.md5_hex == hashlib.md5(b"hello world").hexdigest()
    assert info.blob_id.isalnum()
    assert store.exists(info.blob_id)
    assert read(store, info.blob_id) == b"hello world"
    assert temp_files(store) == []


def test_empty_blob(store: Store) -> None:
    info = store.writer().commit()
    assert info.size == 0
    assert info.md5_hex == "d41d8cd98f00b204e9800998ecf8427e"
    assert read(store, info.blob_id) == b""


def test_large_blob_in_many_writes(store: Store) -> None:
    chunk = bytes(range(256)) * 4096  # 1 MiB
    writer = store.writer()
    for _ in range(5):
        writer.write(chunk)
    info = writer.commit()
    assert info.size == 5 * len(chunk)
    assert info.md5_hex == hashlib.md5(chunk * 5).hexdigest()
    assert read(store, info.blob_id) == chunk * 5


def test_every_commit_is_a_new_blob(store: Store) -> None:
    first, second = put(store, b"same"), put(store, b"same")
    assert first != second
    assert stored_blob_count(store) == 2


def test_open_is_seekable(store: Store) -> None:
    blob_id = put(store, b"0123456789")
    with store.open(blob_id) as reader:
        reader.seek(4)
        assert reader.read(3) == b"456"


def test_nothing_is_visible_before_commit(store: Store) -> None:
    writer = store.writer()
    writer.write(b"pending")
    assert stored_blob_count(store) == 0
    writer.commit()
    assert stored_blob_count(store) == 1


# --- abort ---------------------------------------------------------------------------------------------
def test_abort_leaves_nothing(store: Store) -> None:
    writer = store.writer()
    writer.write(b"discard me")
    if isinstance(store, FileBlobStore):
        assert len(temp_files(store)) == 1
    writer.abort()
    assert stored_blob_count(store) == 0
    assert temp_files(store) == []
    writer.abort()  # twice is fine


def test_abort_after_commit_keeps_the_blob(store: Store) -> None:
    writer = store.writer()
    writer.write(b"keep")
    info = writer.commit()
    writer.abort()
    assert read(store, info.blob_id) == b"keep"
    assert temp_files(store) == []


# --- compose, decompose, copy ------------------------------------------------------------------------
def test_compose_reads_as_the_parts_back_to_back(store: Store) -> None:
    parts = [put(store, b"abc"), put(store, b""), put(store, b"defg"), put(store, b"abc")]
    info = store.compose(parts)
    assert info.size == 10
    assert read(store, info.blob_id) == b"abcdefgabc"
    assert info.blob_id not in parts and store.exists(info.blob_id)
    assert temp_files(store) == []


def test_composed_blob_seeks_across_part_boundaries(store: Store) -> None:
    data = [bytes([n]) * size for n, size in enumerate((5, 1, 7, 3))]
    info = store.compose([put(store, d) for d in data])
    whole = b"".join(data)
    with store.open(info.blob_id) as reader:
        for start in range(len(whole)):
            reader.seek(start)
            assert reader.read(4) == whole[start : start + 4]
        reader.seek(0)
        assert reader.read() == whole


def test_deleting_a_composed_blob_deletes_its_parts(store: Store) -> None:
    parts = [put(store, b"one"), put(store, b"two")]
    info = store.compose(parts)
    store.delete(info.blob_id)
    assert not store.exists(info.blob_id)
    assert not any(store.exists(p) for p in parts)
    assert stored_blob_count(store) == 0


def test_decompose_keeps_the_parts(store: Store) -> None:
    parts = [put(store, b"one"), put(store, b"two")]
    info = store.compose(parts)
    store.decompose(info.blob_id)
    assert not store.exists(info.blob_id)
    assert [read(store, p) for p in parts] == [b"one", b"two"]


def test_compose_of_a_missing_blob_is_a_storage_error(store: Store) -> None:
    present = put(store, b"x")
    with pytest.raises(StorageError):
        store.compose([present, "0" * 32])
    assert stored_blob_count(store) == 1
    assert temp_files(store) == []


@pytest.mark.parametrize("composed", [False, True])
def test_copy_is_independent_of_its_source(store: Store, composed: bool) -> None:
    source = store.compose([put(store, b"pay"), put(store, b"load")]).blob_id if composed else put(store, b"payload")
    copy = store.copy(source)
    assert copy.blob_id != source and copy.size == 7
    store.delete(source)
    assert read(store, copy.blob_id) == b"payload"


def test_copy_of_a_missing_blob_is_a_storage_error(store: Store) -> None:
    with pytest.raises(StorageError):
        store.copy("0" * 32)
    assert temp_files(store) == []


# --- delete, exists, open -------------------------------------------------------------------------------
def test_delete(store: Store) -> None:
    keep, drop = put(store, b"keep"), put(store, b"drop")
    store.delete(drop)
    assert not store.exists(drop)
    assert store.exists(keep)
    assert stored_blob_count(store) == 1
    with pytest.raises(StorageError):
        store.open(drop)


def test_delete_missing_is_fine(store: Store) -> None:
    store.delete("0" * 32)
    blob_id = put(store, b"x")
    store.delete(blob_id)
    store.delete(blob_id)
    assert stored_blob_count(store) == 0


def test_open_missing_is_a_storage_error(store: Store) -> None:
    assert not store.exists("f" * 32)
    with pytest.raises(StorageError):
        store.open("f" * 32)


# --- sweep -----------------------------------------------------------------------------------------------
def leave_leftover(store: Store, name: str = "put-crashed") -> None:
    """What a process killed mid-write leaves behind."""
    if isinstance(store, FileBlobStore):
        (store.tmp_dir / name).write_bytes(b"half written")
    elif isinstance(store, S3BlobStore):  # a writer killed after its first part
        upload = store.client.create_multipart_upload(Bucket=store.bucket, Key=store.key(name.replace("-", "")))
        store.client.upload_part(
            Bucket=store.bucket, Key=store.key(name.replace("-", "")), UploadId=upload["UploadId"],
            PartNumber=1, Body=b"half written",
        )
    else:
        store.writer().write(b"half written")  # never committed: nothing is kept


def test_sweep_removes_leftovers_and_keeps_blobs(store: Store) -> None:
    kept = put(store, b"kept")
    leave_leftover(store)
    expected = 0 if isinstance(store, MemoryBlobStore) else 1  # memory writers leave nothing behind
    assert store.sweep() == expected
    assert temp_files(store) == []
    assert store.sweep() == 0
    assert read(store, kept) == b"kept"
    assert stored_blob_count(store) == 1


def test_sweep_on_a_reopened_filesystem_store(tmp_path: Path) -> None:
    crashed = FileBlobStore(tmp_path)
    kept = put(crashed, b"kept")
    for n in range(3):
        leave_leftover(crashed, f"put-{n}")
    reopened = FileBlobStore(tmp_path)
    assert reopened.sweep() == 3
    assert list(reopened.tmp_dir.iterdir()) == []
    assert read(reopened, kept) == b"kept"


# --- the filesystem store never turns an id into a path outside it --------------------------------------
@pytest.mark.parametrize("bad_id", ["../escape", "a/b", "/etc/passwd", "..", ".", "a\\b", "", "ab cd", "a\x00b"])
def test_blob_ids_with_path_characters_are_refused(tmp_path: Path, bad_id: str) -> None:
    store = FileBlobStore(tmp_path / "storage")
    outside = tmp_path / "escape"
    outside.write_bytes(b"secret")
    for operation in (store.path, store.open, store.exists, store.delete):
        with pytest.raises(StorageError, match="bad blob id"):
            operation(bad_id)
    assert outside.read_bytes() == b"secret"


def test_copy_with_a_refused_id_leaves_no_temp_file_or_open_handle(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    put(store, b"part")  # one blob that must survive
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(StorageError, match="bad blob id"):
            store.copy("../escape")
        gc.collect()  # an abandoned writer's file is closed by its finalizer, with a ResourceWarning
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert list(store.tmp_dir.iterdir()) == []
    assert stored_blob_count(store) == 1


def test_filesystem_layout(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    blob_id = put(store, b"x")
    assert store.path(blob_id) == tmp_path / "blobs" / blob_id[:2] / blob_id
    assert store.path(blob_id).read_bytes() == b"x"


def test_filesystem_commit_failure_is_a_storage_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileBlobStore(tmp_path)
    writer = store.writer()
    writer.write(b"data")

    def refuse(*_args: object) -> None:
        raise OSError(errno.EIO, "Input/output error", str(tmp_path))

    monkeypatch.setattr("cosflow.storage.filesystem.os.replace", refuse)
    with pytest.raises(StorageError, match="^could not store the object: a disk read or write failed$"):
        writer.commit()  # words, never the OS text with its path
    assert list(store.tmp_dir.iterdir()) == []
    assert stored_blob_count(store) == 0


def test_abort_waits_for_a_write_still_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cancelled upload aborts while its last write may still run in a worker thread: the file
    must not be closed under that write."""
    store = FileBlobStore(tmp_path / "storage")
    writer = store.writer()
    entered, release = threading.Event(), threading.Event()
    original = writer._write_all

    def slow_write(data: bytes) -> None:
        entered.set()
        release.wait(5)
        original(data)

    monkeypatch.setattr(writer, "_write_all", slow_write)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            writer.write(b"x" * 1024)
        except BaseException as exc:
            errors.append(exc)

    writing = threading.Thread(target=write)
    writing.start()
    assert entered.wait(5)
    aborting = threading.Thread(target=writer.abort)
    aborting.start()
    aborting.join(0.3)
    assert aborting.is_alive(), "abort closed the file while a write was still running"
    release.set()
    writing.join(5)
    aborting.join(5)
    assert not errors and not aborting.is_alive()
    assert temp_files(store) == []
