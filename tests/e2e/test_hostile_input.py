"""Bad and hostile input gets a clear COS error and changes nothing."""

from __future__ import annotations

import pytest
from qcloud_cos import CosS3Client

from tests.support.server import ServerProcess
from tests.support.signing import billion_laughs, error_code, signed

BILLION_LAUGHS = billion_laughs("<Delete><Object><Key>&lol9;</Key></Object></Delete>")

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Delete><Object><Key>&xxe;</Key></Object></Delete>"""


@pytest.mark.parametrize(
    "body, code",
    [
        (BILLION_LAUGHS, "MalformedXML"),
        (EXTERNAL_ENTITY, "MalformedXML"),
        (b"<Delete><Object><Key>a</Key></Object>", "MalformedXML"),
        (b"not xml at all", "MalformedXML"),
        (b"", "MalformedXML"),
        (b"<Other/>", "MalformedXML"),
        (b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>", "MalformedXML"),
        (b"<Delete>" + b" " * (1024 * 1024 + 1) + b"</Delete>", "EntityTooLarge"),
    ],
    ids=["billion-laughs", "external-entity", "unclosed", "garbage", "empty", "wrong-root", "too-many", "oversized"],
)
def test_hostile_delete_bodies(client: CosS3Client, server: ServerProcess, bucket: str, body: bytes, code: str) -> None:
    client.put_object(Bucket=bucket, Key="a", Body=b"still here")
    client.put_object(Bucket=bucket, Key="k", Body=b"still here")
    resp = signed(client, server, bucket, "POST", "/", {"delete": ""}, body)
    assert resp.status_code == 400 and error_code(resp) == code, resp.text
    for part in ("<Message>", "<Resource>", "<RequestId>"):
        assert part in resp.text
    assert b"root:" not in resp.content
    keys = [c["Key"] for c in client.list_objects(Bucket=bucket)["Contents"]]
    assert keys == ["a", "k"]
    assert client.get_object(Bucket=bucket, Key="a")["Body"].get_raw_stream().read() == b"still here"


def test_hostile_complete_multipart_body(client: CosS3Client, server: ServerProcess, bucket: str) -> None:
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    client.upload_part(Bucket=bucket, Key="mp", Body=b"part", PartNumber=1, UploadId=upload_id)
    for body in (BILLION_LAUGHS, EXTERNAL_ENTITY, b"<CompleteMultipartUpload><Part><PartNumber>x"):
        resp = signed(client, server, bucket, "POST", "mp", {"uploadId": upload_id}, body)
        assert error_code(resp) == "MalformedXML"
    assert len(client.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)["Part"]) == 1


def test_unsupported_subresource_is_not_mistaken_for_data(
    client: CosS3Client, server: ServerProcess, bucket: str
) -> None:
    client.put_object(Bucket=bucket, Key="obj", Body=b"data")
    resp = signed(client, server, bucket, "GET", "obj", {"tagging": ""}, b"")
    assert (resp.status_code, error_code(resp)) == (501, "NotImplemented")


def test_server_survives_and_still_serves(client: CosS3Client, server: ServerProcess, bucket: str) -> None:
    for _ in range(3):
        signed(client, server, bucket, "POST", "/", {"delete": ""}, BILLION_LAUGHS)
    client.put_object(Bucket=bucket, Key="after", Body=b"fine")
    assert client.get_object(Bucket=bucket, Key="after")["Body"].get_raw_stream().read() == b"fine"
    assert server.rss_bytes() < 300 * 1024 * 1024
