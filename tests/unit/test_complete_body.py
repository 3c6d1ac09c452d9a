"""The CompleteMultipartUpload body reader (``api/multipart.read_complete``) and the byte caps of
XML bodies: a 10,000-part body as boto3 sends it (the S3 namespace, a ChecksumCRC32 for each
part: 1,278,993 bytes) is read; every other XML body keeps ``max_xml_bytes`` (1 MiB)."""

from __future__ import annotations

import base64
import hashlib
import zlib

import anyio
import pytest
from starlette.requests import Request

from cosflow.api import xmlio
from cosflow.api.multipart import COMPLETE_MAX_BYTES, read_complete
from cosflow.errors import EntityTooLarge, MalformedXML
from cosflow.services.multipart import MAX_PART_NUMBER
from cosflow.settings import Settings

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_XML = Settings().max_xml_bytes


def boto3_body(parts: int, checksum: str = "ChecksumCRC32") -> bytes:
    """What botocore's rest-xml serialiser sends for ``complete_multipart_upload`` with
    ``{"Parts": [{"PartNumber", "ETag", "ChecksumCRC32"}]}`` (checked once against botocore 1.44:
    the same bytes): the namespace on the root, no declaration, no whitespace, quotes left as is."""

    def part(n: int) -> str:
        etag = hashlib.md5(str(n).encode()).hexdigest()
        if checksum == "ChecksumCRC32":
            value = base64.b64encode(zlib.crc32(str(n).encode()).to_bytes(4, "big")).decode()
        else:
            value = base64.b64encode(hashlib.sha256(str(n).encode()).digest()).decode()
        return f'<Part><PartNumber>{n}</PartNumber><ETag>"{etag}"</ETag><{checksum}>{value}</{checksum}></Part>'

    inner = "".join(part(n) for n in range(1, parts + 1))
    return f'<CompleteMultipartUpload xmlns="{S3_NS}">{inner}</CompleteMultipartUpload>'.encode()


def request(body: bytes, chunk: int = 64 * 1024) -> Request:
    """A Starlette request whose body arrives in ``chunk``-byte messages, with its Content-Length."""
    messages = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]

    async def receive() -> dict[str, object]:
        data = messages.pop(0)
        return {"type": "http.request", "body": data, "more_body": bool(messages)}

    headers = [(b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "method": "POST", "path": "/k", "query_string": b"uploadId=u", "headers": headers}
    return Request(scope, receive)


def read(body: bytes, max_xml: int = MAX_XML) -> list[tuple[int, str]]:
    async def go() -> list[tuple[int, str]]:
        return [(p.part_number, p.etag) for p in await read_complete(request(body), max_xml)]

    return anyio.run(go)


def test_ten_thousand_parts_as_boto3_sends_them_are_read() -> None:
    body = boto3_body(MAX_PART_NUMBER)
    assert len(body) == 1_278_993 > MAX_XML  # was: 400 EntityTooLarge
    parts = read(body)
    assert len(parts) == MAX_PART_NUMBER and [n for n, _ in parts] == list(range(1, MAX_PART_NUMBER + 1))
    assert parts[-1] == (10_000, '"' + hashlib.md5(b"10000").hexdigest() + '"')


def test_ten_thousand_parts_with_sha256_checksums_are_read() -> None:
    body = boto3_body(MAX_PART_NUMBER, "ChecksumSHA256")
    assert MAX_XML < len(body) < COMPLETE_MAX_BYTES
    assert len(read(body)) == MAX_PART_NUMBER


def test_the_s3_namespace_is_ignored_and_a_body_without_one_still_reads() -> None:
    namespaced = boto3_body(2)
    assert read(namespaced) == read(namespaced.replace(f' xmlns="{S3_NS}"'.encode(), b""))


def test_a_complete_body_past_its_own_cap_is_entity_too_large() -> None:
    filler = b"<Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>"
    body = (
        b"<CompleteMultipartUpload>" + filler * (COMPLETE_MAX_BYTES // len(filler) + 1) + b"</CompleteMultipartUpload>"
    )
    with pytest.raises(EntityTooLarge):
        read(body)


def test_an_operator_cap_above_the_complete_cap_wins() -> None:
    body = b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>"
    assert read(body, max_xml=COMPLETE_MAX_BYTES * 2) == [(1, "e")]


def test_another_document_is_malformed_even_in_the_s3_namespace() -> None:
    with pytest.raises(MalformedXML):
        read(f'<Delete xmlns="{S3_NS}"><Object><Key>k</Key></Object></Delete>'.encode())


@pytest.mark.parametrize(
    "root", ["Delete", "CreateBucketConfiguration", "Request"], ids=["multi-delete", "put-bucket", "ci-body"]
)
def test_other_bodies_keep_the_general_cap(root: str) -> None:
    """The same 1.28 MB read as any other XML body (multi-delete, PUT Bucket, the CI bodies all go
    through ``xmlio.read_body`` with ``max_xml_bytes``) is still refused."""
    body = boto3_body(MAX_PART_NUMBER).replace(b"CompleteMultipartUpload", root.encode())

    async def go() -> bytes:
        return await xmlio.read_body(request(body), MAX_XML)

    with pytest.raises(EntityTooLarge):
        anyio.run(go)
