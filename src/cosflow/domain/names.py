"""Rules for bucket names and object keys."""

from __future__ import annotations

import re

from cosflow.errors import InvalidArgument, InvalidBucketName, KeyTooLong

MAX_KEY_BYTES = 850
_BUCKET_PART = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


def validate_bucket_name(name: str, appid: str) -> str:
    """``<name>-<appid>``: lower-case letters, digits and ``-``; the suffix must be our APPID."""
    base, sep, suffix = name.rpartition("-")
    if not sep or suffix != appid:
        raise InvalidBucketName(f"bucket name must end with -{appid}", resource=name)
    if not _BUCKET_PART.match(base) or len(name) > 60:
        raise InvalidBucketName(
            "bucket names use lower-case letters, digits and '-', at most 60 characters with the APPID",
            resource=name,
        )
    return name


def validate_key(key: str) -> str:
    """Object keys are opaque strings; reject only what cannot be stored faithfully."""
    if not key:
        raise InvalidArgument("the object key is empty")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise KeyTooLong(f"object keys are at most {MAX_KEY_BYTES} bytes", resource=key)
    if "\x00" in key or any(0xD800 <= ord(c) <= 0xDFFF for c in key):
        raise InvalidArgument("the object key contains a NUL or an unpaired surrogate", resource=key)
    return key
