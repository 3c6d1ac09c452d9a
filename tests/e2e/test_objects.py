"""Object operations through the official SDK against a live server."""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import httpx
import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from tests.support.refusals import assert_absent
from tests.support.server import REGION, ServerProcess
from tests.support.signing import error_code


def _read(client: CosS3Client, bucket: str, key: str, **kwargs: object) -> bytes:
    return client.get_object(Bucket=bucket, Key=key, KeySimplifyCheck=False, **kwargs)["Body"].get_raw_stream().read()


@pytest.mark.both_databases
def test_put_get_head_delete_round_trip_keeps_headers(client: CosS3Client, bucket: str) -> None:
    body = b"hello cosflow\n" * 100
    put = client.put_object(
        Bucket=bucket,
        Key="docs/readme.txt",
        Body=body,
        ContentType="text/plain; charset=utf-8",
        CacheControl="max-age=60",
        ContentDisposition='attachment; filename="r.txt"',
        Expires="Wed, 21 Oct 2037 07:28:00 GMT",
        Metadata={"x-cos-meta-uid": "42", "x-cos-meta-Project": "demo"},
        EnableMD5=True,
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert put["x-cos-request-id"]

    got = client.get_object(Bucket=bucket, Key="docs/readme.txt")
    assert got["Body"].get_raw_stream().read() == body
    assert got["Content-Type"] == "text/plain; charset=utf-8"
    assert got["Cache-Control"] == "max-age=60"
    assert got["Content-Disposition"] == 'attachment; filename="r.txt"'
    assert got["Expires"] == "Wed, 21 Oct 2037 07:28:00 GMT"
    assert got["x-cos-meta-uid"] == "42"
    assert got["x-cos-meta-project"] == "demo"

    head = client.head_object(Bucket=bucket, Key="docs/readme.txt")
    assert head["Content-Length"] == str(len(body))
    assert head["ETag"] == put["ETag"]
    assert parsedate_to_datetime(head["Last-Modified"]).year >= 2024

    client.delete_object(Bucket=bucket, Key="docs/readme.txt")
    with pytest.raises(CosServiceError) as err:
        client.head_object(Bucket=bucket, Key="docs/readme.txt")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (404, "NoSuchResource")
    # Deleting a missing key succeeds, as in COS/S3.
    client.delete_object(Bucket=bucket, Key="docs/readme.txt")


def test_overwrite_replaces_bytes_and_metadata(client: CosS3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="k", Body=b"first", Metadata={"x-cos-meta-v": "1"})
    client.put_object(Bucket=bucket, Key="k", Body=b"second!", ContentType="text/x-second")
    head = client.head_object(Bucket=bucket, Key="k")
    assert _read(client, bucket, "k") == b"second!"
    assert head["Content-Type"] == "text/x-second"
    assert "x-cos-meta-v" not in head


def test_missing_key_and_bucket_errors(client: CosS3Client, bucket: str) -> None:
    with pytest.raises(CosServiceError) as err:
        client.get_object(Bucket=bucket, Key="nope")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (404, "NoSuchKey")
    assert err.value.get_resource_location() and err.value.get_request_id()
    with pytest.raises(CosServiceError) as err:
        client.get_object(Bucket="nobucket-1250000000", Key="nope")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (404, "NoSuchBucket")


@pytest.mark.parametrize(
    "range_header, expected_slice, status",
    [
        ("bytes=0-9", slice(0, 10), 206),
        ("bytes=10-", slice(10, None), 206),
        ("bytes=-5", slice(-5, None), 206),
        ("bytes=90-1000", slice(90, 100), 206),
        ("bytes=-1000", slice(0, 100), 206),
    ],
)
@pytest.mark.both_databases
def test_ranges(client: CosS3Client, bucket: str, range_header: str, expected_slice: slice, status: int) -> None:
    body = bytes(range(100))
    client.put_object(Bucket=bucket, Key="r.bin", Body=body)
    got = client.get_object(Bucket=bucket, Key="r.bin", Range=range_header)
    data = got["Body"].get_raw_stream().read()
    assert data == body[expected_slice]
    assert got["Content-Length"] == str(len(data))
    start = range(100)[expected_slice][0]
    assert got["Content-Range"] == f"bytes {start}-{start + len(data) - 1}/100"


def test_unsatisfiable_range_is_416(client: CosS3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="r.bin", Body=b"0123456789")
    with pytest.raises(CosServiceError) as err:
        client.get_object(Bucket=bucket, Key="r.bin", Range="bytes=10-20")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (416, "InvalidRange")


@pytest.mark.parametrize(
    ("range_header", "status", "code"),
    [
        ("bytes=-5", 200, ""),
        ("bytes=-1", 200, ""),
        ("bytes=-0", 416, "InvalidRange"),
        ("bytes=0-", 416, "InvalidRange"),
    ],
)
def test_ranges_of_an_empty_object(
    client: CosS3Client, server: ServerProcess, bucket: str, range_header: str, status: int, code: str
) -> None:
    """A suffix range of an empty object is the whole (empty) object with 200, as Amazon S3 answers
    (RFC 9110 §14.1.3 calls it satisfiable, and no 206 can describe it: never ``bytes 0--1/0``).
    A range naming a first byte, or an empty suffix, selects nothing: 416."""
    client.put_object(Bucket=bucket, Key="empty", Body=b"")
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    auth = client.get_auth(Method="GET", Bucket=bucket, Key="empty", Headers={"Host": host})
    resp = httpx.get(f"{server.endpoint}/empty", headers={"Host": host, "Authorization": auth, "Range": range_header})
    assert (resp.status_code, error_code(resp)) == (status, code), resp.text
    if status == 200:
        assert resp.content == b"" and resp.headers["Content-Length"] == "0"
        assert "Content-Range" not in resp.headers


def test_conditional_gets(client: CosS3Client, bucket: str) -> None:
    put = client.put_object(Bucket=bucket, Key="c.txt", Body=b"conditional")
    etag = put["ETag"]
    modified = parsedate_to_datetime(client.head_object(Bucket=bucket, Key="c.txt")["Last-Modified"])
    assert _read(client, bucket, "c.txt", IfMatch=etag) == b"conditional"
    with pytest.raises(CosServiceError) as err:
        client.get_object(Bucket=bucket, Key="c.txt", IfMatch='"0000"')
    assert (err.value.get_status_code(), err.value.get_error_code()) == (412, "PreconditionFailed")
    # 304 Not Modified is below 400: the SDK treats it as success with an empty body.
    not_modified = client.get_object(Bucket=bucket, Key="c.txt", IfNoneMatch=etag)
    assert not_modified["Body"].get_raw_stream().read() == b""
    later = format_datetime(modified + timedelta(hours=1), usegmt=True)
    earlier = format_datetime(modified - timedelta(hours=1), usegmt=True)
    assert client.get_object(Bucket=bucket, Key="c.txt", IfModifiedSince=later)["Body"].get_raw_stream().read() == b""
    assert _read(client, bucket, "c.txt", IfModifiedSince=earlier) == b"conditional"
    with pytest.raises(CosServiceError) as err:
        client.get_object(Bucket=bucket, Key="c.txt", IfUnmodifiedSince=earlier)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (412, "PreconditionFailed")
    assert _read(client, bucket, "c.txt", IfUnmodifiedSince=later) == b"conditional"


def test_response_overrides(client: CosS3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="o.bin", Body=b"x", ContentType="application/octet-stream")
    got = client.get_object(
        Bucket=bucket,
        Key="o.bin",
        ResponseContentType="image/png",
        ResponseContentDisposition="inline",
        ResponseCacheControl="no-cache",
        ResponseContentLanguage="zh-CN",
        ResponseExpires="Thu, 01 Jan 2037 00:00:00 GMT",
        ResponseContentEncoding="identity",
    )
    assert got["Content-Type"] == "image/png"
    assert got["Content-Disposition"] == "inline"
    assert got["Cache-Control"] == "no-cache"
    assert got["Content-Language"] == "zh-CN"
    assert got["Expires"] == "Thu, 01 Jan 2037 00:00:00 GMT"


def test_wrong_content_md5_is_rejected_and_stores_nothing(client: CosS3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="keep.txt", Body=b"original")
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(CosServiceError) as err:
        client.put_object(Bucket=bucket, Key="keep.txt", Body=b"replacement", ContentMD5=wrong)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "BadDigest")
    with pytest.raises(CosServiceError) as err:
        client.put_object(Bucket=bucket, Key="new.txt", Body=b"replacement", ContentMD5="not-base64!")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidDigest")
    assert _read(client, bucket, "keep.txt") == b"original"
    assert_absent(client, bucket, "new.txt")


def test_streamed_body_from_file_object(client: CosS3Client, bucket: str) -> None:
    payload = hashlib.sha256(b"seed").digest() * 50_000  # 1.6 MB
    client.put_object(Bucket=bucket, Key="stream.bin", Body=io.BytesIO(payload))
    assert hashlib.sha256(_read(client, bucket, "stream.bin")).digest() == hashlib.sha256(payload).digest()


@pytest.mark.both_databases
def test_copy_object_keeps_or_replaces_metadata(client: CosS3Client, bucket: str) -> None:
    client.put_object(
        Bucket=bucket, Key="src/a.mp4", Body=b"video-bytes", ContentType="video/mp4", Metadata={"x-cos-meta-a": "1"}
    )
    source = {"Bucket": bucket, "Key": "src/a.mp4", "Region": "ap-guangzhou"}
    copied = client.copy_object(Bucket=bucket, Key="dst/a.mp4", CopySource=source)
    assert copied["ETag"] == f'"{hashlib.md5(b"video-bytes").hexdigest()}"'
    head = client.head_object(Bucket=bucket, Key="dst/a.mp4")
    assert (head["Content-Type"], head["x-cos-meta-a"]) == ("video/mp4", "1")
    assert _read(client, bucket, "dst/a.mp4") == b"video-bytes"

    client.copy_object(
        Bucket=bucket,
        Key="dst/b.mp4",
        CopySource=source,
        CopyStatus="Replaced",
        ContentType="video/quicktime",
        Metadata={"x-cos-meta-b": "2"},
    )
    head = client.head_object(Bucket=bucket, Key="dst/b.mp4")
    assert head["Content-Type"] == "video/quicktime"
    assert head["x-cos-meta-b"] == "2" and "x-cos-meta-a" not in head


def test_copy_between_buckets_and_unicode_source(client: CosS3Client, bucket: str) -> None:
    other = bucket.replace("test", "copydst")
    client.create_bucket(Bucket=other)
    key = "目录/空 格+plus?.txt"
    client.put_object(Bucket=bucket, Key=key, Body=b"unicode source")
    client.copy_object(
        Bucket=other, Key="copied.txt", CopySource={"Bucket": bucket, "Key": key, "Region": "ap-guangzhou"}
    )
    assert _read(client, other, "copied.txt") == b"unicode source"
    with pytest.raises(CosServiceError) as err:
        client.copy_object(
            Bucket=other, Key="x", CopySource={"Bucket": bucket, "Key": "missing", "Region": "ap-guangzhou"}
        )
    assert (err.value.get_status_code(), err.value.get_error_code()) == (404, "NoSuchKey")


@pytest.mark.both_databases
def test_delete_objects_verbose_and_quiet(client: CosS3Client, bucket: str) -> None:
    for key in ("d/1", "d/2", "d/3", "keep"):
        client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    result = client.delete_objects(
        Bucket=bucket, Delete={"Object": [{"Key": "d/1"}, {"Key": "d/2"}, {"Key": "missing"}], "Quiet": "false"}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == ["d/1", "d/2", "missing"]
    quiet = client.delete_objects(Bucket=bucket, Delete={"Object": [{"Key": "d/3"}], "Quiet": "true"})
    assert not quiet.get("Deleted")
    remaining = [c["Key"] for c in client.list_objects(Bucket=bucket).get("Contents", [])]
    assert remaining == ["keep"]


KEYS = [
    "a/../b",
    "./x",
    "a//b",
    "/leading-slash-dropped-by-sdk",
    "a/b/../c/./d",
    "../../outside",
    "中文/é.txt",
    "space and+plus&amp=;.txt",
    "percent%2Fliteral",
    "jobs/a.mp4",
    "workflow",
    "template",
    "x" * 400 + "/" + "é" * 200,  # 801 bytes of UTF-8
]


@pytest.mark.parametrize("key", KEYS)
def test_tricky_keys_round_trip_exactly(client: CosS3Client, bucket: str, data_dir: object, key: str) -> None:
    client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    stored = key.lstrip("/")  # the SDK itself strips one leading '/'
    assert _read(client, bucket, stored) == key.encode()
    listed = [c["Key"] for c in client.list_objects(Bucket=bucket, Prefix=stored)["Contents"]]
    assert stored in listed
    client.delete_object(Bucket=bucket, Key=stored)


def test_850_byte_key_limit(client: CosS3Client, bucket: str) -> None:
    longest = "é" * 425  # 850 bytes
    client.put_object(Bucket=bucket, Key=longest, Body=b"ok")
    assert _read(client, bucket, longest) == b"ok"
    with pytest.raises(CosServiceError) as err:
        client.put_object(Bucket=bucket, Key=longest + "a", Body=b"too long")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "KeyTooLong")


def test_keys_never_touch_the_filesystem_outside_the_store(client: CosS3Client, bucket: str, data_dir) -> None:
    before = {p for p in data_dir.parent.rglob("*")}
    for key in ("../../escape.txt", "../" * 20 + "etc/passwd", "storage/blobs/../../x"):
        client.put_object(Bucket=bucket, Key=key, Body=b"contained")
        assert _read(client, bucket, key) == b"contained"
    created = {p for p in data_dir.parent.rglob("*")} - before
    assert created, "the blobs must be somewhere"
    assert all(p.is_relative_to(data_dir / "storage") or p.name.startswith("cosflow.db") for p in created)
    assert not any("escape" in p.name or p.name == "passwd" for p in created)
