"""GET Service and bucket operations: create, head, delete, ACL, list objects (v1, v2), multi-delete."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from cosflow.api import headers as hdr
from cosflow.api import xmlio
from cosflow.api.context import Call
from cosflow.api.errors import code_and_status, log_internal, public_message
from cosflow.domain import times
from cosflow.domain.records import StoredObject
from cosflow.errors import BadDigest, InvalidArgument, MalformedXML
from cosflow.services.transfer import expected_md5

MAX_DELETE = 1000


def _xml(root: str, body: dict[str, Any], status: int = 200) -> Response:
    return Response(xmlio.render(root, body), status_code=status, media_type="application/xml")


async def list_buckets(call: Call) -> Response:
    buckets = await call.services.buckets.list()
    region = call.services.settings.region
    entries = [
        {"Name": b.name, "Location": region, "CreationDate": times.iso_z(b.created_at), "BucketType": "cos"}
        for b in buckets
    ]
    return _xml(
        "ListAllMyBucketsResult",
        {"Owner": call.owner, "Buckets": {"Bucket": entries}, "Marker": "", "IsTruncated": False},
    )


async def put_bucket(call: Call) -> Response:
    body = await xmlio.read_body(call.request, call.services.settings.max_xml_bytes)
    if body.strip():
        xmlio.parse(body)  # CreateBucketConfiguration: well-formedness checked, content not used
    await call.services.buckets.create(call.bucket, call.request.headers.get("x-cos-acl"))
    return Response(status_code=200)


async def put_bucket_acl(call: Call) -> Response:
    if "x-cos-acl" not in call.request.headers:
        raise InvalidArgument("set the ACL with the x-cos-acl header (private or public-read)", resource="acl")
    await call.services.buckets.set_acl(call.bucket, call.request.headers["x-cos-acl"])
    return Response(status_code=200)


async def get_bucket_acl(call: Call) -> Response:
    bucket = await call.services.buckets.get(call.bucket)
    owner = call.owner
    xsi_type = "@{http://www.w3.org/2001/XMLSchema-instance}type"
    grants = [{"Grantee": {xsi_type: "CanonicalUser", **owner}, "Permission": "FULL_CONTROL"}]
    if bucket.acl == "public-read":
        everyone = {xsi_type: "Group", "URI": "http://cam.qcloud.com/groups/global/AllUsers"}
        grants.append({"Grantee": everyone, "Permission": "READ"})
    return _xml("AccessControlPolicy", {"Owner": owner, "AccessControlList": {"Grant": grants}})


async def head_bucket(call: Call) -> Response:
    await call.services.buckets.get(call.bucket)
    return Response(status_code=200, headers={"x-cos-bucket-region": call.services.settings.region})


async def delete_bucket(call: Call) -> Response:
    await call.services.buckets.delete(call.bucket)
    return Response(status_code=204)


def _encoder(call: Call) -> Any:
    mode = call.query("encoding-type")
    if mode and mode != "url":
        raise InvalidArgument("encoding-type must be url", resource="encoding-type")
    if mode == "url":
        return lambda value: quote(value, safe="/") if value else value
    return lambda value: value


def _content(call: Call, obj: StoredObject, encode: Any, owner: bool = True) -> dict[str, Any]:
    return {
        "Key": encode(obj.key),
        "LastModified": times.iso_z(obj.last_modified),
        "ETag": hdr.quoted(obj.etag),
        "Size": obj.size,
        "Owner": call.owner if owner else None,
        "StorageClass": obj.attrs.storage_class,
    }


async def list_objects(call: Call) -> Response:
    if call.query("list-type") == "2":
        return await list_objects_v2(call)
    encode = _encoder(call)
    prefix, delimiter, marker = call.query("prefix"), call.query("delimiter"), call.query("marker")
    max_keys = call.int_query("max-keys", 1000, 0, 1000)
    page = await call.services.objects.list(call.bucket, prefix, delimiter, marker, max_keys)
    body = {
        "Name": call.bucket,
        "EncodingType": call.query("encoding-type") or None,
        "Prefix": encode(prefix),
        "Marker": encode(marker),
        "MaxKeys": max_keys,
        "Delimiter": encode(delimiter) or None,
        "IsTruncated": page.is_truncated,
        "NextMarker": encode(page.next_marker) if page.is_truncated else None,
        "CommonPrefixes": [{"Prefix": encode(p)} for p in page.common_prefixes],
        "Contents": [_content(call, o, encode) for o in page.contents],
    }
    return _xml("ListBucketResult", body)


def _token(marker: str) -> str:
    return base64.urlsafe_b64encode(marker.encode()).decode()


def _untoken(token: str) -> str:
    try:
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidArgument(
            "continuation-token is not one this server issued", resource="continuation-token"
        ) from exc


async def list_objects_v2(call: Call) -> Response:
    encode = _encoder(call)
    prefix, delimiter = call.query("prefix"), call.query("delimiter")
    token, start_after = call.query("continuation-token"), call.query("start-after")
    marker = _untoken(token) if token else start_after
    max_keys = call.int_query("max-keys", 1000, 0, 1000)
    page = await call.services.objects.list(call.bucket, prefix, delimiter, marker, max_keys)
    fetch_owner = call.query("fetch-owner").lower() == "true"
    body = {
        "Name": call.bucket,
        "EncodingType": call.query("encoding-type") or None,
        "Prefix": encode(prefix),
        "StartAfter": encode(start_after) or None,
        "ContinuationToken": token or None,
        "MaxKeys": max_keys,
        "Delimiter": encode(delimiter) or None,
        "KeyCount": len(page.contents) + len(page.common_prefixes),
        "IsTruncated": page.is_truncated,
        "NextContinuationToken": _token(page.next_marker) if page.is_truncated else None,
        "CommonPrefixes": [{"Prefix": encode(p)} for p in page.common_prefixes],
        "Contents": [_content(call, o, encode, owner=fetch_owner) for o in page.contents],
    }
    return _xml("ListBucketResult", body)


async def delete_objects(call: Call) -> Response:
    raw = await xmlio.read_body(call.request, call.services.settings.max_xml_bytes)
    want = expected_md5(call.request.headers.get("content-md5"))
    if want is not None and hashlib.md5(raw).hexdigest() != want:
        raise BadDigest()
    root = xmlio.parse(raw, local_names=True)  # boto3 sends xmlns="http://s3.amazonaws.com/doc/2006-03-01/"
    if root.tag != "Delete":
        raise MalformedXML("the body must be a <Delete> document")
    keys = [xmlio.text(o, "Key") for o in root.findall("Object")]
    if not keys or len(keys) > MAX_DELETE:
        raise MalformedXML(f"name between 1 and {MAX_DELETE} <Object> elements")
    quiet = xmlio.text(root, "Quiet").strip().lower() == "true"
    outcomes = await call.services.objects.delete_many(call.bucket, keys)
    deleted = [{"Key": o.key} for o in outcomes if o.error is None and not quiet]
    failed = [
        {"Key": o.key, "Code": code_and_status(o.error)[0], "Message": public_message(o.error)}
        for o in outcomes
        if o.error is not None
    ]
    for outcome in outcomes:
        if outcome.error is not None:
            log_internal(outcome.error, call.request_id, key=outcome.key)
    return _xml("DeleteResult", {"Deleted": deleted, "Error": failed})
