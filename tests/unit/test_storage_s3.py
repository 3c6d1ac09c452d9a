"""What only the S3 store has: S3 multipart streaming, aborts that leave no upload behind, writers
racing on one key, ranged GETs, the sweep of dead writers' uploads, errors in words and the
start-up check. Against moto's S3 server (tests/support/moto.py); the shared behaviour is in
test_storage.py."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from cosflow.errors import ConfigError, StorageError
from cosflow.settings import Settings
from cosflow.storage import s3, s3_client
from cosflow.storage.s3 import S3BlobStore, S3BlobWriter
from tests.support.moto import ACCESS_KEY, REGION, SECRET_KEY, TEST_PART_BYTES, MotoServer

PART = TEST_PART_BYTES


@pytest.fixture
def store(moto_s3: MotoServer) -> S3BlobStore:
    return S3BlobStore(moto_s3.client(), moto_s3.new_bucket(), "cosflow/", part_bytes=PART)


def uploads(store: S3BlobStore) -> list[dict[str, Any]]:
    return store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])  # type: ignore[no-any-return]


def keys(store: S3BlobStore) -> list[str]:
    return [o["Key"] for o in store.client.list_objects_v2(Bucket=store.bucket).get("Contents", [])]


def test_a_large_body_streams_as_s3_multipart_and_appears_only_whole(store: S3BlobStore) -> None:
    chunk = 64 * 1024
    body = os.urandom(13 * chunk + 1000)  # 3.2 parts of 256 KiB
    writer = store.writer()
    most_buffered = 0
    for start in range(0, len(body), chunk):
        writer.write(body[start : start + chunk])
        most_buffered = max(most_buffered, len(writer._buffer))
    # Parts went out while the body streamed in; nothing is visible yet.
    assert len(uploads(store)) == 1
    assert keys(store) == []
    assert most_buffered < PART + chunk  # one part buffered (plus one in flight), never the whole body
    info = writer.commit()
    assert info.size == len(body) and info.md5_hex == hashlib.md5(body).hexdigest()
    head = store.client.head_object(Bucket=store.bucket, Key=store.key(info.blob_id))
    assert head["ETag"].strip('"').endswith("-4")  # CompleteMultipartUpload of four parts
    assert keys(store) == [f"cosflow/blobs/{info.blob_id}"] and uploads(store) == []
    with store.open(info.blob_id) as reader:
        assert reader.read() == body


def test_a_small_body_is_one_put_and_no_multipart_upload(store: S3BlobStore) -> None:
    writer = store.writer()
    writer.write(b"small")
    assert uploads(store) == []
    info = writer.commit()
    etag = store.client.head_object(Bucket=store.bucket, Key=store.key(info.blob_id))["ETag"].strip('"')
    assert etag == hashlib.md5(b"small").hexdigest()


def test_abort_of_a_started_multipart_upload_leaves_nothing(store: S3BlobStore) -> None:
    writer = store.writer()
    for _ in range(3):
        writer.write(os.urandom(PART))
    assert len(uploads(store)) == 1
    writer.abort()
    assert uploads(store) == [] and keys(store) == []
    writer.abort()  # twice is fine
    with pytest.raises(StorageError):
        writer.write(b"late")


def test_a_commit_that_fails_leaves_nothing_and_says_so_in_words(store: S3BlobStore) -> None:
    writer = store.writer()
    writer.write(os.urandom(PART))
    assert len(uploads(store)) == 1
    upload = uploads(store)[0]  # someone else aborts the S3 upload under the writer
    store.client.abort_multipart_upload(Bucket=store.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    writer.write(os.urandom(100))
    with pytest.raises(StorageError, match="^could not store the object: ") as caught:
        writer.commit()
    assert "cosflow/" not in str(caught.value) and writer.blob_id not in str(caught.value)
    assert uploads(store) == [] and keys(store) == []


def test_concurrent_writers_of_one_blob_id_leave_one_whole_body(store: S3BlobStore) -> None:
    """S3's last CompleteMultipartUpload wins, whole: never a mix of two writers' parts."""
    blob_id = "f" * 32
    bodies = [bytes([n]) * (2 * PART + 10) for n in range(4)]
    writers = [S3BlobWriter(store, blob_id) for _ in bodies]
    barrier = threading.Barrier(len(writers))

    def write(writer: S3BlobWriter, body: bytes) -> None:
        barrier.wait()
        for start in range(0, len(body), 50_000):
            writer.write(body[start : start + 50_000])
        writer.commit()

    threads = [threading.Thread(target=write, args=pair) for pair in zip(writers, bodies, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with store.open(blob_id) as reader:
        assert reader.read() in bodies
    assert uploads(store) == []


def test_concurrent_writers_get_their_own_blobs(store: S3BlobStore) -> None:
    bodies = [os.urandom(PART + n) for n in range(12)]
    results: dict[int, str] = {}

    def write(n: int) -> None:
        writer = store.writer()
        writer.write(bodies[n][:1000])
        writer.write(bodies[n][1000:])
        results[n] = writer.commit().blob_id

    threads = [threading.Thread(target=write, args=(n,)) for n in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(set(results.values())) == len(bodies)
    for n, blob_id in results.items():
        with store.open(blob_id) as reader:
            assert reader.read() == bodies[n]


def test_a_ranged_read_fetches_only_its_range(store: S3BlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = [os.urandom(PART), os.urandom(PART), os.urandom(1000)]
    blob_ids = []
    for data in parts:
        writer = store.writer()
        writer.write(data)
        blob_ids.append(writer.commit().blob_id)
    whole = b"".join(parts)
    composed = store.compose(blob_ids)
    ranges: list[tuple[str, int, int]] = []
    real = store._get

    def logged(key: str, first: int, last: int) -> Any:
        ranges.append((key, first, last))
        return real(key, first, last)

    monkeypatch.setattr(store, "_get", logged)
    with store.open(composed.blob_id) as reader:
        reader.seek(PART - 10)
        assert reader.read(20) == whole[PART - 10 : PART + 10]  # across the first part boundary
    assert [(k.rsplit("/", 1)[1], f, la) for k, f, la in ranges] == [
        (blob_ids[0], PART - 10, PART - 1),
        (blob_ids[1], 0, PART - 1),
    ]


def test_sweep_aborts_only_uploads_older_than_the_cutoff(store: S3BlobStore) -> None:
    writer = store.writer()
    writer.write(os.urandom(PART))  # a live upload
    # moto reports every upload as initiated on 2010-11-10: a cutoff 100 years back keeps it live.
    store.stale_upload_seconds = 100 * 365 * 86400
    assert store.sweep() == 0  # a starting server must not cut short another node's upload
    assert len(uploads(store)) == 1
    store.stale_upload_seconds = 0
    assert store.sweep() == 1
    assert uploads(store) == []


def test_a_composed_blob_is_a_small_manifest_and_copies_server_side(store: S3BlobStore) -> None:
    ids = []
    for data in (b"a" * 10, b"b" * 20):
        writer = store.writer()
        writer.write(data)
        ids.append(writer.commit().blob_id)
    composed = store.compose(ids)
    head = store.client.head_object(Bucket=store.bucket, Key=store.key(composed.blob_id))
    assert head["Metadata"] == {s3.COMPOSED: "1"} and head["ContentLength"] < 200
    copy = store.copy(composed.blob_id)
    store.delete(composed.blob_id)
    assert len(keys(store)) == 3  # the copy's manifest and its two copied parts
    with store.open(copy.blob_id) as reader:
        assert reader.read() == b"a" * 10 + b"b" * 20
    store.delete(copy.blob_id)
    assert keys(store) == []


def test_the_store_holds_no_disk_reserve(store: S3BlobStore) -> None:
    # Writes are never refused for local disk space, and a delete never borrows a reserve.
    assert store.reserve_held() is True and store.hold_reserve() is True
    assert store.lend_reserve() is False


def test_blob_ids_with_key_characters_are_refused(store: S3BlobStore) -> None:
    for bad in ("../x", "a/b", "", "a b"):
        with pytest.raises(StorageError, match="bad blob id"):
            store.open(bad)


# --- errors in words, and the start-up check ------------------------------------------------------------
def test_an_unreachable_store_is_a_storage_error_in_words(moto_s3: MotoServer) -> None:
    client = MotoServer(port=1).client(retries={"max_attempts": 1}, connect_timeout=1)
    store = S3BlobStore(client, "bucket", part_bytes=PART)
    with pytest.raises(StorageError, match="^could not read the object: the object store could not be reached$"):
        store.open("a" * 32)


def test_a_missing_blob_is_a_storage_error_without_its_key(store: S3BlobStore) -> None:
    with pytest.raises(StorageError, match="^could not read the object: it is not in the object store$"):
        store.open("a" * 32)


def settings_for(moto: MotoServer, bucket: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "blob_store": "s3",
        "s3_endpoint_url": moto.endpoint,
        "s3_bucket": bucket,
        "s3_region": REGION,
        "s3_access_key_id": ACCESS_KEY,
        "s3_secret_access_key": SECRET_KEY,
    }
    return Settings(**(values | extra))


def test_connect_checks_the_bucket(moto_s3: MotoServer) -> None:
    bucket = moto_s3.new_bucket()
    store = s3_client.connect(settings_for(moto_s3, bucket, s3_prefix="tenant-a"))
    assert store.prefix == "tenant-a/" and store.part_bytes == 8 * 1024 * 1024
    with pytest.raises(ConfigError, match=rf"^S3 store: bucket 'nope-{bucket}' does not exist at {moto_s3.endpoint} "):
        s3_client.connect(settings_for(moto_s3, "nope-" + bucket))


def test_connect_to_a_closed_port_names_the_endpoint(moto_s3: MotoServer) -> None:
    with pytest.raises(ConfigError, match=r"^S3 store: cannot reach http://127\.0\.0\.1:1 \("):
        s3_client.connect(settings_for(moto_s3, "b", s3_endpoint_url="http://user:pw@127.0.0.1:1"))


@pytest.fixture(scope="module")
def checking_moto() -> Iterator[MotoServer]:
    """A moto that checks access keys after its first request (which makes the bucket)."""
    server = MotoServer(env={"INITIAL_NO_AUTH_ACTION_COUNT": "1"}).start()
    server.client().create_bucket(Bucket="guarded")
    yield server
    server.stop()


def test_connect_with_wrong_credentials_says_they_were_refused(checking_moto: MotoServer) -> None:
    settings = settings_for(checking_moto, "guarded", s3_access_key_id="AKIAWRONG", s3_secret_access_key="wrong")
    with pytest.raises(ConfigError) as caught:
        s3_client.connect(settings)
    assert str(caught.value) == f"S3 store: {checking_moto.endpoint} refused the credentials for bucket 'guarded'"
    assert "wrong" not in str(caught.value).replace("refused", "")
