"""Object metadata carried in HTTP headers, both ways."""

from __future__ import annotations

import re
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
#: A field value that HTTP/1.1 can carry (RFC 9110 §5.5: visible ASCII, obs-text, inner spaces and
#: tabs), i.e. what the server's h11 writer accepts; Starlette writes header values as Latin-1.
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
#: A field name (RFC 9110 §5.1 token).
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def header_value(name: str, value: str) -> str:
    """``value`` as it can be sent in a response header: leading and trailing spaces and tabs are
    dropped (RFC 9110 §5.5: they are not part of a field value); anything else that a header cannot
    carry (CR, LF, NUL and other controls, characters beyond Latin-1) raises InvalidArgument naming
    ``name``. Request headers always pass; query parameters and form fields may not."""
    text = value.strip(" \t")
    if _FIELD_VALUE.fullmatch(text) is None:
        raise InvalidArgument(
            f"{name} cannot be sent as an HTTP header: it must be Latin-1 text without control characters"
            " (for a UTF-8 file name use RFC 8187, e.g. attachment; filename*=UTF-8''%E4%B8%AD.txt)",
            resource=name,
        )
    return text


def overrides(query: Mapping[str, str]) -> dict[str, str]:
    """The headers GET Object's ``response-*`` parameters set (empty values are ignored)."""
    out = {}
    for param, header in OVERRIDES.items():
        value = header_value(param, query.get(param) or "")
        if value:
            out[header] = value
    return out


def attrs_from(headers: Mapping[str, str], default_type: str = "application/octet-stream") -> ObjectAttrs:
    """What an upload's headers say about the object."""
    kept = {KEPT[name.lower()]: header_value(name, value) for name, value in headers.items() if name.lower() in KEPT}
    meta = {
        _meta_name(name): header_value(name, value)
        for name, value in headers.items()
        if name.lower().startswith("x-cos-meta-")
    }
    if sum(len(k) + len(v) for k, v in meta.items()) > MAX_META_BYTES:
        raise InvalidArgument(f"x-cos-meta-* headers are at most {MAX_META_BYTES} bytes together")
    storage_class = headers.get("x-cos-storage-class", "STANDARD").upper()
    if storage_class not in STORAGE_CLASSES:
        raise InvalidArgument(f"unknown x-cos-storage-class {storage_class!r}", resource="x-cos-storage-class")
    return ObjectAttrs(
        content_type=header_value("Content-Type", headers.get("content-type") or "") or default_type,
        headers=kept,
        meta=meta,
        storage_class=storage_class,
    )


def _meta_name(name: str) -> str:
    """An ``x-cos-meta-*`` name that can be sent back as a header (form fields can hold any text)."""
    if _TOKEN.fullmatch(name) is None:
        raise InvalidArgument(f"{name[:64]!r} cannot be an HTTP header name", resource="x-cos-meta-*")
    return name.lower()


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
