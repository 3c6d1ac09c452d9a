"""Object metadata carried in HTTP headers, both ways."""

from __future__ import annotations

from collections.abc import Mapping

from cosflow.domain import times
from cosflow.domain.records import ObjectAttrs, StoredObject
from cosflow.errors import InvalidArgument

#: Standard headers stored with the object and returned on GET/HEAD, by their canonical spelling.
KEPT = {
    "cache-control": "Cache-Control",
    "content-disposition": "Content-Disposition",
    "content-encoding": "Content-Encoding",
    "content-language": "Content-Language",
    "expires": "Expires",
}
STORAGE_CLASSES = {
    "STANDARD",
    "STANDARD_IA",
    "ARCHIVE",
    "DEEP_ARCHIVE",
    "INTELLIGENT_TIERING",
    "MAZ_STANDARD",
    "MAZ_STANDARD_IA",
}
#: ``response-*`` query parameters of GET Object and the header each overrides.
OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}
MAX_META_BYTES = 2048


def attrs_from(headers: Mapping[str, str], default_type: str = "application/octet-stream") -> ObjectAttrs:
    """What an upload's headers say about the object."""
    kept = {KEPT[name.lower()]: value for name, value in headers.items() if name.lower() in KEPT}
    meta = {name.lower(): value for name, value in headers.items() if name.lower().startswith("x-cos-meta-")}
    if sum(len(k) + len(v) for k, v in meta.items()) > MAX_META_BYTES:
        raise InvalidArgument(f"x-cos-meta-* headers are at most {MAX_META_BYTES} bytes together")
    storage_class = headers.get("x-cos-storage-class", "STANDARD").upper()
    if storage_class not in STORAGE_CLASSES:
        raise InvalidArgument(f"unknown x-cos-storage-class {storage_class!r}", resource="x-cos-storage-class")
    return ObjectAttrs(
        content_type=headers.get("content-type") or default_type,
        headers=kept,
        meta=meta,
        storage_class=storage_class,
    )


def quoted(etag: str) -> str:
    return f'"{etag}"'


def object_headers(obj: StoredObject) -> dict[str, str]:
    headers = {
        "Content-Type": obj.attrs.content_type,
        "ETag": quoted(obj.etag),
        "Last-Modified": times.http_date(obj.last_modified),
        "Accept-Ranges": "bytes",
        "x-cos-storage-class": obj.attrs.storage_class,
    }
    headers.update(obj.attrs.headers)
    headers.update(obj.attrs.meta)
    return headers
