"""Bad and hostile input gets a clear COS error and changes nothing."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import quote, unquote

import httpx
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
        (b"<Delete><Object><Key>\xff</Key></Object></Delete>", "MalformedXML"),
    ],
    ids=[
        "billion-laughs",
        "external-entity",
        "unclosed",
        "garbage",
        "empty",
        "wrong-root",
        "too-many",
        "oversized",
        "key-not-utf8",
    ],
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


# --- bounded XML (issue 9, defect 3) ----------------------------------------------------------------


def nested(depth: int, leaf: str = "x") -> str:
    return "<n>" * depth + leaf + "</n>" * depth


DEEP_TEMPLATE = (
    "<Request><Tag>Transcode</Tag><Name>deep</Name><Container><Format>mp4</Format></Container>"
    f"<Video><Codec>H.264</Codec>{nested(970)}</Video></Request>"
).encode()
DEEP_WORKFLOW = (
    "<Request><MediaWorkflow><Name>deep</Name><Topology><Dependencies><Start>End</Start></Dependencies>"
    f"<Nodes><Start><Type>Start</Type><Input><ObjectPrefix>in/</ObjectPrefix>{nested(980)}</Input></Start>"
    "</Nodes></Topology></MediaWorkflow></Request>"
).encode()
WIDE_TEMPLATE = (
    "<Request><Tag>Transcode</Tag><Name>wide</Name><Container><Format>mp4</Format></Container>"
    + "<Video><Codec>H.264</Codec></Video>" * 2600
    + "</Request>"
).encode()


def _custom_templates(ci: CosS3Client, bucket: str) -> int:
    return int(ci.ci_get_template(Bucket=bucket, Category="Custom")["TotalCount"])


def _workflows(ci: CosS3Client, bucket: str) -> int:
    return int(ci.ci_get_workflow(Bucket=bucket)["TotalCount"])


@pytest.mark.parametrize(
    "path, body",
    [("template", DEEP_TEMPLATE), ("template", WIDE_TEMPLATE), ("workflow", DEEP_WORKFLOW)],
    ids=["template-970-deep", "template-5205-elements", "workflow-980-deep"],
)
def test_ci_bodies_past_the_xml_bounds_are_refused_and_store_nothing(
    ci: CosS3Client, engine_server: ServerProcess, media_bucket: str, path: str, body: bytes
) -> None:
    """Issue 9 defect 3: a 970-deep template answered 500 but was saved, and every listing failed
    after it. Now: 400 MalformedXML (the bounds, before anything is stored), listings still work."""
    resp = signed(ci, engine_server, media_bucket, "POST", path, {}, body, svc="ci")
    assert (resp.status_code, error_code(resp)) == (400, "MalformedXML"), resp.text
    assert _custom_templates(ci, media_bucket) == 0 and _workflows(ci, media_bucket) == 0


def test_ci_update_past_the_xml_bounds_changes_nothing(
    ci: CosS3Client, engine_server: ServerProcess, media_bucket: str
) -> None:
    template_id = ci.ci_create_template(
        Bucket=media_bucket, Template={"Tag": "Snapshot", "Name": "snap", "Snapshot": {"Count": "3"}}
    )["Template"]["TemplateId"]
    body = f"<Request><Tag>Snapshot</Tag><Name>snap</Name><Snapshot>{nested(40)}</Snapshot></Request>".encode()
    resp = signed(ci, engine_server, media_bucket, "PUT", f"template/{template_id}", {}, body, svc="ci")
    assert (resp.status_code, error_code(resp)) == (400, "MalformedXML"), resp.text
    listed = ci.ci_get_template(Bucket=media_bucket, Ids=template_id)["TemplateList"][0]
    assert listed["Snapshot"] == {"Count": "3"}


@pytest.mark.parametrize(
    "method, params, body",
    [
        ("POST", {"delete": ""}, f"<Delete><Object><Key>{nested(40)}</Key></Object></Delete>".encode()),
        ("POST", {"delete": ""}, b"<Delete>" + b"<Object/>" * 50_000 + b"</Delete>"),
        ("PUT", {}, f"<CreateBucketConfiguration>{nested(40)}</CreateBucketConfiguration>".encode()),
    ],
    ids=["multi-delete-deep", "multi-delete-50001-elements", "create-bucket-deep"],
)
def test_cos_bodies_past_the_xml_bounds_are_malformed(
    client: CosS3Client, server: ServerProcess, bucket: str, method: str, params: dict[str, str], body: bytes
) -> None:
    target = bucket if method == "POST" else f"fresh{bucket}"  # PUT creates a bucket
    resp = signed(client, server, target, method, "/", params, body)
    assert (resp.status_code, error_code(resp)) == (400, "MalformedXML"), resp.text
    assert signed(client, server, target, "HEAD", "/").status_code == (200 if target == bucket else 404)


def test_complete_multipart_past_the_xml_bounds_is_malformed(
    client: CosS3Client, server: ServerProcess, bucket: str
) -> None:
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    client.upload_part(Bucket=bucket, Key="mp", Body=b"part", PartNumber=1, UploadId=upload_id)
    body = f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>{nested(40)}</Part></CompleteMultipartUpload>"
    resp = signed(client, server, bucket, "POST", "mp", {"uploadId": upload_id}, body.encode())
    assert (resp.status_code, error_code(resp)) == (400, "MalformedXML"), resp.text
    assert len(client.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)["Part"]) == 1


# --- every error body is well-formed XML (issue 9, defect 10) ---------------------------------------


HOSTILE_KEYS = ["a\x00b", "a\x01b", "esc\x1b[31m", "bell\x07", "\x0c", "tab\tkey", "a\ufffeb", "x" * 900 + "\x00"]


def well_formed_error(resp: httpx.Response) -> ET.Element:
    """The error body through a strict XML 1.0 parser (expat: a NUL or control character, even as
    a character reference, is a fatal error), with the four fields COS always sends."""
    root = ET.fromstring(resp.content)
    assert root.tag == "Error"
    for name in ("Code", "Message", "Resource", "RequestId"):
        assert root.find(name) is not None, resp.text
    return root


@pytest.mark.parametrize("key", HOSTILE_KEYS, ids=["nul", "soh", "esc", "bel", "ff", "tab", "fffe", "long-nul"])
def test_error_bodies_for_hostile_keys_are_well_formed(
    client: CosS3Client, server: ServerProcess, bucket: str, key: str
) -> None:
    """Before: a NUL in a key gave a 400 whose body was not XML (the key went into <Resource>)."""
    put = signed(client, server, bucket, "PUT", key, {}, b"data", quoted=True)
    if put.status_code != 200:
        assert put.status_code == 400 and well_formed_error(put).findtext("Code") in ("InvalidArgument", "KeyTooLong")
    missing = signed(client, server, bucket, "GET", key + "\x02missing", quoted=True)
    assert missing.status_code == 404 and well_formed_error(missing).findtext("Code") == "NoSuchKey"
    copy = signed(client, server, bucket, "POST", key, {"uploadId": "no-such-upload"}, b"<x/>", quoted=True)
    assert copy.status_code in (400, 404)
    well_formed_error(copy)
    anonymous = httpx.get(f"{server.endpoint}/{bucket}/{quote(key + chr(3))}")
    assert anonymous.status_code in (400, 403, 404)
    well_formed_error(anonymous)


def test_nul_in_a_key_is_invalid_argument_with_a_readable_body(
    client: CosS3Client, server: ServerProcess, bucket: str
) -> None:
    resp = signed(client, server, bucket, "PUT", "a\x00b", {}, b"data", quoted=True)
    root = well_formed_error(resp)
    assert (resp.status_code, root.findtext("Code")) == (400, "InvalidArgument")
    assert "\ufffd" in (root.findtext("Resource") or "")  # shown, as U+FFFD, not dropped
    assert not client.list_objects(Bucket=bucket).get("Contents")


def test_listing_keys_xml_cannot_carry(client: CosS3Client, server: ServerProcess, bucket: str) -> None:
    """A key may hold a control character XML 1.0 cannot carry: the listing stays well-formed
    (U+FFFD in its place) and encoding-type=url gives the exact key."""
    client.put_object(Bucket=bucket, Key="a\x01b", Body=b"x")
    plain = signed(client, server, bucket, "GET", "/")
    assert plain.status_code == 200
    assert ET.fromstring(plain.content).findtext("Contents/Key") == "a\ufffdb"
    exact = client.list_objects(Bucket=bucket, EncodingType="url")["Contents"]
    assert [unquote(c["Key"]) for c in exact] == ["a\x01b"]
