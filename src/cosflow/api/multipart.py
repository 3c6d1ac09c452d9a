"""Multipart upload operations."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from cosflow.api import headers as hdr
from cosflow.api import xmlio
from cosflow.api.context import Call
from cosflow.domain import times
from cosflow.domain.numbers import plain_uint
from cosflow.domain.records import Upload
from cosflow.errors import InvalidArgument, MalformedXML
from cosflow.services.multipart import MAX_PART_NUMBER, RequestedPart

#: Bytes a CompleteMultipartUpload body may have, whatever ``max_xml_bytes`` says: it names up to
#: 10,000 parts, each with its ETag and, from S3 SDKs, a checksum. boto3 sends 10,000 parts with
#: ChecksumCRC32 in 1,278,993 bytes (past the 1 MiB of other bodies), about 1.65 MB with
#: ChecksumSHA256; 256 bytes a part leaves room for indentation and escaped quotes.
COMPLETE_BYTES_PER_PART = 256
COMPLETE_MAX_BYTES = MAX_PART_NUMBER * COMPLETE_BYTES_PER_PART + 4096


def complete_max_bytes(max_xml_bytes: int) -> int:
    """The byte cap of a CompleteMultipartUpload body: :data:`COMPLETE_MAX_BYTES`, or the general
    ``max_xml_bytes`` where an operator set that higher."""
    return max(max_xml_bytes, COMPLETE_MAX_BYTES)


def _xml(root: str, body: dict[str, Any]) -> Response:
    return Response(xmlio.render(root, body), media_type="application/xml")


async def initiate(call: Call) -> Response:
    upload = await call.services.multipart.initiate(call.bucket, call.key, hdr.attrs_from(call.request.headers))
    return _xml("InitiateMultipartUploadResult", {"Bucket": call.bucket, "Key": call.key, "UploadId": upload.upload_id})


async def upload_part(call: Call) -> Response:
    if "x-cos-copy-source" in call.request.headers:
        raise InvalidArgument("Upload Part - Copy is not supported yet", resource="x-cos-copy-source")
    number = call.int_query("partNumber", 0, 1, MAX_PART_NUMBER)
    part = await call.services.multipart.upload_part(
        call.bucket,
        call.key,
        call.query("uploadId"),
        number,
        call.request.stream(),
        content_length=call.content_length(),
        content_md5=call.request.headers.get("content-md5"),
    )
    return Response(status_code=200, headers={"ETag": hdr.quoted(part.etag)})


def _requested_parts(root: Any) -> list[RequestedPart]:
    if root.tag != "CompleteMultipartUpload":
        raise MalformedXML("the body must be a <CompleteMultipartUpload> document")
    requested = []
    for element in root.findall("Part"):
        number = plain_uint(xmlio.text(element, "PartNumber").strip())
        if number is None:
            raise MalformedXML("every <Part> needs a numeric <PartNumber>")
        requested.append(RequestedPart(number, xmlio.text(element, "ETag")))
    return requested


async def read_complete(request: Request, max_xml_bytes: int) -> list[RequestedPart]:
    """The parts a CompleteMultipartUpload body names, in order, read within
    :func:`complete_max_bytes` (``EntityTooLarge`` past it) and the XML bounds; the namespace S3
    SDKs put on the body (``xmlns="http://s3.amazonaws.com/doc/2006-03-01/"``) is ignored, and so
    are elements other than ``PartNumber`` and ``ETag`` (``ChecksumCRC32``...). ``MalformedXML``
    for another document or a ``<Part>`` without a numeric ``<PartNumber>``."""
    root = await xmlio.read_xml(request, complete_max_bytes(max_xml_bytes), local_names=True)
    return _requested_parts(root)


async def complete(call: Call) -> Response:
    requested = await read_complete(call.request, call.services.settings.max_xml_bytes)
    obj = await call.services.multipart.complete(call.bucket, call.key, call.query("uploadId"), requested)
    location = f"{call.bucket_host()}/{quote(call.key)}"
    return _xml(
        "CompleteMultipartUploadResult",
        {"Location": location, "Bucket": call.bucket, "Key": call.key, "ETag": hdr.quoted(obj.etag)},
    )


async def abort(call: Call) -> Response:
    await call.services.multipart.abort(call.bucket, call.key, call.query("uploadId"))
    return Response(status_code=204)


async def list_parts(call: Call) -> Response:
    upload, parts = await call.services.multipart.list_parts(call.bucket, call.key, call.query("uploadId"))
    marker = call.int_query("part-number-marker", 0, 0, MAX_PART_NUMBER)
    max_parts = call.int_query("max-parts", 1000, 0, 1000)
    after = [p for p in parts if p.part_number > marker]
    page, truncated = after[:max_parts], len(after) > max_parts
    encode = (lambda v: quote(v, safe="/")) if call.query("encoding-type") == "url" else (lambda v: v)
    return _xml(
        "ListPartsResult",
        {
            "Bucket": call.bucket,
            "Encoding-type": call.query("encoding-type") or None,
            "Key": encode(upload.key),
            "UploadId": upload.upload_id,
            "Initiator": call.owner,
            "Owner": call.owner,
            "StorageClass": upload.attrs.storage_class,
            "PartNumberMarker": marker,
            "NextPartNumberMarker": page[-1].part_number if page else marker,
            "MaxParts": max_parts,
            "IsTruncated": truncated,
            "Part": [
                {
                    "PartNumber": p.part_number,
                    "LastModified": times.iso_z(p.last_modified),
                    "ETag": hdr.quoted(p.etag),
                    "Size": p.size,
                }
                for p in page
            ],
        },
    )


def _after_markers(uploads: list[Upload], key_marker: str, id_marker: str) -> list[Upload]:
    if not key_marker:
        return uploads
    return [u for u in uploads if u.key > key_marker or (u.key == key_marker and id_marker and u.upload_id > id_marker)]


async def list_uploads(call: Call) -> Response:
    prefix = call.query("prefix")
    key_marker, id_marker = call.query("key-marker"), call.query("upload-id-marker")
    max_uploads = call.int_query("max-uploads", 1000, 0, 1000)
    uploads = _after_markers(await call.services.multipart.list_uploads(call.bucket, prefix), key_marker, id_marker)
    page, truncated = uploads[:max_uploads], len(uploads) > max_uploads
    encode = (lambda v: quote(v, safe="/")) if call.query("encoding-type") == "url" else (lambda v: v)
    return _xml(
        "ListMultipartUploadsResult",
        {
            "Bucket": call.bucket,
            "Encoding-Type": call.query("encoding-type") or None,
            "KeyMarker": encode(key_marker),
            "UploadIdMarker": id_marker,
            "NextKeyMarker": encode(page[-1].key) if truncated else None,
            "NextUploadIdMarker": page[-1].upload_id if truncated else None,
            "Prefix": encode(prefix),
            "MaxUploads": max_uploads,
            "IsTruncated": truncated,
            "Upload": [
                {
                    "Key": encode(u.key),
                    "UploadId": u.upload_id,
                    "StorageClass": u.attrs.storage_class,
                    "Initiator": call.owner,
                    "Owner": call.owner,
                    "Initiated": times.iso_z(u.initiated),
                }
                for u in page
            ],
        },
    )
