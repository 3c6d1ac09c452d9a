"""Values the object API works with: buckets, stored objects, multipart uploads and parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

ACLS = ("private", "public-read")


@dataclass(frozen=True)
class Bucket:
    name: str
    acl: str
    created_at: datetime


@dataclass(frozen=True)
class ObjectAttrs:
    """What an upload says about the object besides its bytes."""

    content_type: str = "application/octet-stream"
    #: Standard headers kept and returned: Cache-Control, Content-Disposition, ...
    headers: dict[str, str] = field(default_factory=dict)
    #: ``x-cos-meta-*`` headers, names lower-cased.
    meta: dict[str, str] = field(default_factory=dict)
    storage_class: str = "STANDARD"


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    blob_id: str
    size: int
    etag: str
    last_modified: datetime
    attrs: ObjectAttrs


@dataclass(frozen=True)
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiated: datetime
    attrs: ObjectAttrs


@dataclass(frozen=True)
class Part:
    part_number: int
    blob_id: str
    size: int
    etag: str
    last_modified: datetime
