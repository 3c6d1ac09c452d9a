"""Object operations: PUT (and copy), GET, HEAD, DELETE."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote

from starlette.responses import Response, StreamingResponse

from cosflow.api import headers as hdr
from cosflow.api import xmlio
from cosflow.api.context import Call
from cosflow.domain import preconditions, times
from cosflow.domain.ranges import parse_range
from cosflow.domain.records import StoredObject
from cosflow.errors import InvalidArgument, MissingContentLength, NotModified


async def put_object(call: Call) -> Response:
    if "x-cos-copy-source" in call.request.headers:
        return await copy_object(call)
    headers = call.request.headers
    length = call.content_length()
    if length is None and "chunked" not in headers.get("transfer-encoding", "").lower():
        raise MissingContentLength()
    obj = await call.services.objects.put(
        call.bucket,
        call.key,
        call.request.stream(),
        hdr.attrs_from(headers),
        content_length=length,
        content_md5=headers.get("content-md5"),
    )
    return Response(status_code=200, headers={"ETag": hdr.quoted(obj.etag)})


def parse_copy_source(value: str) -> tuple[str, str]:
    """``<bucket-appid>.cos.<region>.<domain>/<urlencoded key>[?versionId=]``, or ``/bucket/key``."""
    raw = value.strip()
    if "://" in raw:
        raw = raw.split("://", 1)[1]
    raw = raw.split("?", 1)[0]  # a literal '?' in the key arrives encoded as %3F
    if raw.startswith("/"):
        bucket, _, key = raw[1:].partition("/")
    else:
        host, _, key = raw.partition("/")
        bucket = host.split(".", 1)[0]
    try:
        key = unquote(key, errors="strict")
    except UnicodeDecodeError as exc:  # '%ff' would otherwise name the same object as '%fe'
        raise InvalidArgument(
            "x-cos-copy-source: the key is not valid UTF-8 once percent-decoded", resource="x-cos-copy-source"
        ) from exc
    if not bucket or not key:
        raise InvalidArgument(
            "x-cos-copy-source must be <bucket>.cos.<region>.<domain>/<key>", resource="x-cos-copy-source"
        )
    return bucket, key


async def copy_object(call: Call) -> Response:
    headers = call.request.headers
    src_bucket, src_key = parse_copy_source(headers["x-cos-copy-source"])
    directive = headers.get("x-cos-metadata-directive", "Copy").strip().lower()
    if directive not in ("copy", "replaced"):
        raise InvalidArgument("x-cos-metadata-directive must be Copy or Replaced", resource="x-cos-metadata-directive")
    source = await call.services.objects.head(src_bucket, src_key)
    _check_preconditions(source, headers, prefix="x-cos-copy-source-", is_read=False)
    attrs = hdr.attrs_from(headers, source.attrs.content_type) if directive == "replaced" else None
    obj = await call.services.objects.copy(source, call.bucket, call.key, attrs)
    body = xmlio.render(
        "CopyObjectResult", {"ETag": hdr.quoted(obj.etag), "LastModified": times.iso_z(obj.last_modified)}
    )
    return Response(body, media_type="application/xml", headers={"ETag": hdr.quoted(obj.etag)})


def _check_preconditions(
    obj: StoredObject, headers: Mapping[str, str], *, prefix: str = "", is_read: bool = True
) -> None:
    """The If-* headers (for a copy, their ``x-cos-copy-source-`` forms) against ``obj``."""
    preconditions.check(
        obj.etag,
        obj.last_modified,
        if_match=headers.get(prefix + "if-match"),
        if_none_match=headers.get(prefix + "if-none-match"),
        if_modified_since=headers.get(prefix + "if-modified-since"),
        if_unmodified_since=headers.get(prefix + "if-unmodified-since"),
        is_read=is_read,
    )


async def get_object(call: Call) -> Response:
    head = call.request.method == "HEAD"
    headers = call.request.headers
    extra = hdr.overrides(call.request.query_params)  # refused before the object is opened
    if head:
        obj = await call.services.objects.head(call.bucket, call.key)
        reader = None
    else:
        obj, reader = await call.services.objects.open(call.bucket, call.key)
    try:
        _check_preconditions(obj, headers)
        byte_range = parse_range(headers.get("range"), obj.size)
    except NotModified:
        if reader is not None:
            reader.close()
        # The SDK insists on Content-Length (or Transfer-Encoding) on every GET response.
        not_modified = {"ETag": hdr.quoted(obj.etag), "Last-Modified": times.http_date(obj.last_modified)}
        return Response(status_code=304, headers={**not_modified, "Content-Length": "0"})
    except BaseException:
        if reader is not None:
            reader.close()
        raise
    out = hdr.object_headers(obj) | extra
    status = 200
    length = obj.size
    if byte_range is not None:
        status, length = 206, byte_range.length
        out["Content-Range"] = byte_range.content_range(obj.size)
    out["Content-Length"] = str(length)
    if reader is None:
        return Response(status_code=status, headers=out)
    # Content-Type goes in the headers, not media_type, so Starlette adds no charset to it.
    stream = call.services.objects.stream(reader, byte_range, obj.size)
    return StreamingResponse(stream, status_code=status, headers=out)


async def delete_object(call: Call) -> Response:
    await call.services.objects.delete(call.bucket, call.key)
    return Response(status_code=204)
