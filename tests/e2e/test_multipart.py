"""Multipart uploads and large transfers through the official SDK."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from pathlib import Path

import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from tests.support.refusals import assert_absent
from tests.support.server import ServerProcess
from tests.support.signing import signed

MiB = 1024 * 1024
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(4 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def _random_file(path: Path, size: int) -> Path:
    with path.open("wb") as f:
        for _ in range(size // (4 * MiB)):
            f.write(os.urandom(4 * MiB))
        f.write(os.urandom(size % (4 * MiB)))
    return path


@pytest.mark.slow
def test_upload_file_64mib_in_8mib_parts_and_download_byte_exact(
    client: CosS3Client, bucket: str, tmp_path: Path
) -> None:
    source = _random_file(tmp_path / "big.bin", 64 * MiB + 12345)
    client.upload_file(Bucket=bucket, Key="videos/big.bin", LocalFilePath=str(source), PartSize=8, MAXThread=4)
    head = client.head_object(Bucket=bucket, Key="videos/big.bin")
    assert int(head["Content-Length"]) == source.stat().st_size
    assert head["ETag"].strip('"').endswith("-9")  # 8 full parts + the tail
    target = tmp_path / "back.bin"
    client.download_file(Bucket=bucket, Key="videos/big.bin", DestFilePath=str(target), PartSize=8, MAXThread=4)
    assert _sha256(target) == _sha256(source)
    assert not client.list_multipart_uploads(Bucket=bucket).get("Upload")


@pytest.mark.both_databases
def test_manual_multipart_lifecycle(client: CosS3Client, bucket: str) -> None:
    key = "mp/目录 a.bin"
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, ContentType="video/mp4")["UploadId"]
    uploads = client.list_multipart_uploads(Bucket=bucket, Prefix="mp/")["Upload"]
    assert [u["Key"] for u in uploads] == [key] and uploads[0]["UploadId"] == upload_id
    first, second = os.urandom(MiB), os.urandom(1000)
    etag1 = client.upload_part(Bucket=bucket, Key=key, Body=first, PartNumber=1, UploadId=upload_id)["ETag"]
    etag2 = client.upload_part(Bucket=bucket, Key=key, Body=second, PartNumber=2, UploadId=upload_id)["ETag"]
    parts = client.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts["Part"]] == [
        ("1", etag1, str(MiB)),
        ("2", etag2, "1000"),
    ]
    assert_absent(client, bucket, key)  # nothing visible before completion
    done = client.complete_multipart_upload(
        Bucket=bucket,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Part": [{"PartNumber": 1, "ETag": etag1}, {"PartNumber": 2, "ETag": etag2}]},
    )
    expected = hashlib.md5(bytes.fromhex(etag1.strip('"')) + bytes.fromhex(etag2.strip('"'))).hexdigest() + "-2"
    assert done["ETag"] == f'"{expected}"' and done["Key"] == key
    got = client.get_object(Bucket=bucket, Key=key)
    assert got["Body"].get_raw_stream().read() == first + second
    assert got["Content-Type"] == "video/mp4"
    assert not client.list_multipart_uploads(Bucket=bucket).get("Upload")


def test_abort_discards_parts(client: CosS3Client, bucket: str) -> None:
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="gone")["UploadId"]
    client.upload_part(Bucket=bucket, Key="gone", Body=b"x" * 100, PartNumber=1, UploadId=upload_id)
    client.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=upload_id)
    with pytest.raises(CosServiceError) as err:
        client.list_parts(Bucket=bucket, Key="gone", UploadId=upload_id)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (404, "NoSuchUpload")
    assert_absent(client, bucket, "gone")


def test_complete_with_wrong_part_etag_stores_nothing(client: CosS3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="target", Body=b"existing")
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="target")["UploadId"]
    etag = client.upload_part(Bucket=bucket, Key="target", Body=b"new", PartNumber=1, UploadId=upload_id)["ETag"]
    for parts, code in (
        ([{"PartNumber": 1, "ETag": '"0123456789abcdef0123456789abcdef"'}], "InvalidPart"),
        ([{"PartNumber": 2, "ETag": etag}], "InvalidPart"),
    ):
        with pytest.raises(CosServiceError) as err:
            client.complete_multipart_upload(
                Bucket=bucket, Key="target", UploadId=upload_id, MultipartUpload={"Part": parts}
            )
        assert (err.value.get_status_code(), err.value.get_error_code()) == (400, code)
    assert client.get_object(Bucket=bucket, Key="target")["Body"].get_raw_stream().read() == b"existing"
    # The upload survives a failed completion and can still be completed correctly.
    client.complete_multipart_upload(
        Bucket=bucket, Key="target", UploadId=upload_id, MultipartUpload={"Part": [{"PartNumber": 1, "ETag": etag}]}
    )
    assert client.get_object(Bucket=bucket, Key="target")["Body"].get_raw_stream().read() == b"new"


def test_part_rules(client: CosS3Client, bucket: str) -> None:
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="rules")["UploadId"]
    small = [
        client.upload_part(Bucket=bucket, Key="rules", Body=b"a" * 10, PartNumber=n, UploadId=upload_id)["ETag"]
        for n in (1, 2)
    ]
    with pytest.raises(CosServiceError) as err:
        client.complete_multipart_upload(
            Bucket=bucket,
            Key="rules",
            UploadId=upload_id,
            MultipartUpload={"Part": [{"PartNumber": 1, "ETag": small[0]}, {"PartNumber": 2, "ETag": small[1]}]},
        )
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "EntityTooSmall")
    with pytest.raises(CosServiceError) as err:
        client.complete_multipart_upload(
            Bucket=bucket,
            Key="rules",
            UploadId=upload_id,
            MultipartUpload={"Part": [{"PartNumber": 2, "ETag": small[1]}, {"PartNumber": 1, "ETag": small[0]}]},
        )
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidPartOrder")
    with pytest.raises(CosServiceError) as err:
        client.upload_part(Bucket=bucket, Key="rules", Body=b"x", PartNumber=10001, UploadId=upload_id)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidArgument")
    with pytest.raises(CosServiceError) as err:
        client.upload_part(Bucket=bucket, Key="other-key", Body=b"x", PartNumber=1, UploadId=upload_id)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (404, "NoSuchUpload")


def test_complete_and_delete_as_boto3_sends_them(client: CosS3Client, server: ServerProcess, bucket: str) -> None:
    """boto3 (and other S3 SDKs) put ``xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`` on the
    CompleteMultipartUpload and Delete bodies, and a checksum on each part. Was: 400 MalformedXML
    ("the body must be a <CompleteMultipartUpload> document"). The bodies are the bytes botocore's
    serialiser writes (tests/unit/test_complete_body.py builds the 10,000-part one)."""
    key = "boto3/multi.bin"
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    data = [os.urandom(MiB), os.urandom(1000)]
    etags = [
        client.upload_part(Bucket=bucket, Key=key, Body=d, PartNumber=n, UploadId=upload_id)["ETag"]
        for n, d in enumerate(data, 1)
    ]
    parts = "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag>"
        f"<ChecksumCRC32>{base64.b64encode(zlib.crc32(d).to_bytes(4, 'big')).decode()}</ChecksumCRC32></Part>"
        for n, (etag, d) in enumerate(zip(etags, data, strict=True), 1)
    )
    body = f'<CompleteMultipartUpload xmlns="{S3_NS}">{parts}</CompleteMultipartUpload>'.encode()
    done = signed(client, server, bucket, "POST", key, params={"uploadId": upload_id}, body=body)
    assert done.status_code == 200, done.text
    assert client.get_object(Bucket=bucket, Key=key)["Body"].get_raw_stream().read() == b"".join(data)

    delete = f'<Delete xmlns="{S3_NS}"><Object><Key>{key}</Key></Object><Quiet>true</Quiet></Delete>'.encode()
    deleted = signed(client, server, bucket, "POST", "/", params={"delete": ""}, body=delete)
    assert deleted.status_code == 200 and "<Error>" not in deleted.text, deleted.text
    assert_absent(client, bucket, key)
