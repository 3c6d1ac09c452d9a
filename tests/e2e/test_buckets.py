"""Buckets and listings through the official SDK."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from tests.support.server import ServerProcess


def test_service_lists_created_buckets(client: CosS3Client) -> None:
    client.create_bucket(Bucket="listed-1250000000")
    buckets = client.list_buckets()["Buckets"]["Bucket"]
    names = [b["Name"] for b in (buckets if isinstance(buckets, list) else [buckets])]
    assert "listed-1250000000" in names
    entry = next(b for b in (buckets if isinstance(buckets, list) else [buckets]) if b["Name"] == "listed-1250000000")
    assert entry["Location"] == "ap-guangzhou" and entry["CreationDate"].endswith("Z")


def test_bucket_lifecycle(client: CosS3Client) -> None:
    name = "lifecycle-1250000000"
    assert client.bucket_exists(Bucket=name) is False
    client.create_bucket(Bucket=name)
    assert client.bucket_exists(Bucket=name) is True
    assert client.head_bucket(Bucket=name)["x-cos-bucket-region"] == "ap-guangzhou"
    with pytest.raises(CosServiceError) as err:
        client.create_bucket(Bucket=name)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (409, "BucketAlreadyExists")
    client.put_object(Bucket=name, Key="x", Body=b"x")
    with pytest.raises(CosServiceError) as err:
        client.delete_bucket(Bucket=name)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (409, "BucketNotEmpty")
    client.delete_object(Bucket=name, Key="x")
    client.delete_bucket(Bucket=name)
    assert client.bucket_exists(Bucket=name) is False


@pytest.mark.parametrize("name", ["Upper-1250000000", "nosuffix", "ok-999", "a" * 60 + "-1250000000"])
def test_invalid_bucket_names(client: CosS3Client, name: str) -> None:
    with pytest.raises(CosServiceError) as err:
        client.create_bucket(Bucket=name)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidBucketName")


def test_bucket_with_unknown_acl_is_refused(client: CosS3Client) -> None:
    with pytest.raises(CosServiceError) as err:
        client.create_bucket(Bucket="badacl-1250000000", ACL="public-read-write")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidArgument")
    assert client.bucket_exists(Bucket="badacl-1250000000") is False


def test_public_read_allows_anonymous_reads_only(client: CosS3Client, server: ServerProcess) -> None:
    client.create_bucket(Bucket="public-1250000000", ACL="public-read")
    client.create_bucket(Bucket="private-1250000000")
    for bucket in ("public-1250000000", "private-1250000000"):
        client.put_object(Bucket=bucket, Key="p.txt", Body=b"readable")
    host = "public-1250000000.cos.ap-guangzhou.myqcloud.com"
    anon = httpx.get(f"{server.endpoint}/p.txt", headers={"Host": host})
    assert anon.status_code == 200 and anon.content == b"readable"
    path_style = httpx.get(f"{server.endpoint}/public-1250000000/p.txt")
    assert path_style.content == b"readable"
    denied = httpx.get(f"{server.endpoint}/private-1250000000/p.txt")
    assert denied.status_code == 403 and b"<Code>AccessDenied</Code>" in denied.content
    for method in ("PUT", "DELETE"):
        write = httpx.request(method, f"{server.endpoint}/public-1250000000/p.txt", content=b"vandal")
        assert write.status_code == 403, method
    assert httpx.get(f"{server.endpoint}/public-1250000000/p.txt").content == b"readable"


def test_bucket_acl_can_be_switched(client: CosS3Client, server: ServerProcess) -> None:
    client.create_bucket(Bucket="switch-1250000000")
    client.put_object(Bucket="switch-1250000000", Key="f", Body=b"f")
    assert httpx.get(f"{server.endpoint}/switch-1250000000/f").status_code == 403
    client.put_bucket_acl(Bucket="switch-1250000000", ACL="public-read")
    assert httpx.get(f"{server.endpoint}/switch-1250000000/f").status_code == 200
    grants = client.get_bucket_acl(Bucket="switch-1250000000")
    assert grants["CannedACL"] == "public-read"


def _all_keys(client: CosS3Client, bucket: str, **kwargs: object) -> tuple[list[str], list[str], int]:
    keys, prefixes, marker, pages = [], [], "", 0
    while True:
        page = client.list_objects(Bucket=bucket, Marker=marker, **kwargs)
        pages += 1
        keys += [c["Key"] for c in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if page["IsTruncated"] == "false":
            return keys, prefixes, pages
        marker = page["NextMarker"]


KEYS = sorted(["a.txt", "b/1", "b/2", "b/sub/3", "c/1", "c/2/3", "d", "dir/é 1", "dir/é 2", "z%20literal", "目录/文件"])


@pytest.mark.both_databases
def test_listing_pages_prefixes_and_delimiters(client: CosS3Client, bucket: str) -> None:
    for key in KEYS:
        client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    keys, prefixes, pages = _all_keys(client, bucket, MaxKeys=2)
    assert keys == KEYS and prefixes == [] and pages == 6
    keys, prefixes, _ = _all_keys(client, bucket, Delimiter="/", MaxKeys=2)
    assert keys == ["a.txt", "d", "z%20literal"]
    assert prefixes == ["b/", "c/", "dir/", "目录/"]
    keys, prefixes, _ = _all_keys(client, bucket, Prefix="b/", Delimiter="/")
    assert keys == ["b/1", "b/2"] and prefixes == ["b/sub/"]
    keys, _, _ = _all_keys(client, bucket, Prefix="dir/é")
    assert keys == ["dir/é 1", "dir/é 2"]
    listing = client.list_objects(Bucket=bucket, Prefix="b/1")
    assert listing["Contents"][0]["Size"] == "3" and listing["Contents"][0]["ETag"].startswith('"')


@pytest.mark.both_databases
def test_listing_is_in_byte_order_whatever_the_database_collation(client: CosS3Client, bucket: str) -> None:
    """COS lists keys in UTF-8 binary order; a PostgreSQL database created with a linguistic
    collation (en-US: ``a_b, a-b, ab, aB, Ab``) must not change it, on one page or across pages."""
    keys = ["ab", "aB", "Ab", "a-b", "a_b", "a.b", "a b", "b", "é", "Z"]
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=b"x")
    expected = sorted(keys, key=lambda k: k.encode())
    assert _all_keys(client, bucket, MaxKeys=1000)[0] == expected
    assert _all_keys(client, bucket, MaxKeys=3)[0] == expected


def _signed_get(client: CosS3Client, server: ServerProcess, bucket: str, params: dict[str, str]) -> httpx.Response:
    """A GET Bucket the SDK has no method for (list-type=2), signed by the SDK's own get_auth."""
    host = f"{bucket}.cos.ap-guangzhou.myqcloud.com"
    auth = client.get_auth(Method="GET", Bucket=bucket, Key="/", Params=params, Headers={"Host": host})
    return httpx.get(f"{server.endpoint}/", params=params, headers={"Host": host, "Authorization": auth})


def test_listing_v2_with_continuation(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    for key in KEYS:
        client.put_object(Bucket=bucket, Key=key, Body=b"x")
    token, keys, prefixes, pages = "", [], [], 0
    while True:
        params = {"list-type": "2", "max-keys": "3", "delimiter": "/", "fetch-owner": "true"}
        if token:
            params["continuation-token"] = token
        resp = _signed_get(client, server, bucket, params)
        assert resp.status_code == 200, resp.text
        root = ET.fromstring(resp.content)
        pages += 1
        keys += [e.text for e in root.iter("Key")]
        prefixes += [e.findtext("Prefix") for e in root.iter("CommonPrefixes")]
        assert int(root.findtext("KeyCount")) == len(root.findall("Contents")) + len(root.findall("CommonPrefixes"))
        if root.findtext("IsTruncated") != "true":
            break
        token = root.findtext("NextContinuationToken")
    assert keys == ["a.txt", "d", "z%20literal"]
    assert prefixes == ["b/", "c/", "dir/", "目录/"]
    assert pages == 3
    bad = _signed_get(client, server, bucket, {"list-type": "2", "continuation-token": "%%%"})
    assert bad.status_code == 400 and b"InvalidArgument" in bad.content
