"""POST Object: a browser-style multipart/form-data upload with a signed policy (spec §2.5)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from qcloud_cos import CosS3Client

from tests.support.server import REGION, SECRET_ID, SECRET_KEY, ServerProcess


def _form(
    bucket: str, conditions: list[object], secret_key: str = SECRET_KEY, ttl: int = 600, signed: bool = True
) -> dict[str, str]:
    """The fields a web page would embed, signed the way Tencent's docs describe (not by our code);
    ``signed`` adds the three q-* conditions COS requires."""
    now = int(time.time())
    key_time = f"{now - 60};{now + ttl}"
    expiration = (datetime.now(UTC) + timedelta(seconds=ttl)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    required = [{"q-sign-algorithm": "sha1"}, {"q-ak": SECRET_ID}, {"q-sign-time": key_time}] if signed else []
    policy = json.dumps({"expiration": expiration, "conditions": [*required, *conditions]})
    sign_key = hmac.new(secret_key.encode(), key_time.encode(), hashlib.sha1).hexdigest()
    string_to_sign = hashlib.sha1(policy.encode()).hexdigest()
    signature = hmac.new(sign_key.encode(), string_to_sign.encode(), hashlib.sha1).hexdigest()
    return {
        "policy": base64.b64encode(policy.encode()).decode(),
        "q-sign-algorithm": "sha1",
        "q-ak": SECRET_ID,
        "q-key-time": key_time,
        "q-signature": signature,
    }


def _post(server: ServerProcess, bucket: str, fields: dict[str, str], content: bytes, name: str = "clip.mp4"):
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    files = {"file": (name, content, "video/mp4")}
    return httpx.post(f"{server.endpoint}/", data=fields, files=files, headers={"Host": host})


def _java_demo_body(bucket: str, key: str, content: bytes, secret_key: str = SECRET_KEY) -> tuple[str, bytes]:
    """The request body tencentyun/cos-java-sdk-v5 ``demo/PostObjectDemo.java`` builds, byte for byte:
    a policy on bucket and the three q-* fields only; form fields ``key`` and the q-* fields in the
    order Java's HashMap iterates them; the file part with its ``Content-Type``; signature from
    ``COSSigner.buildPostObjectSignature`` (HMAC-SHA1(HMAC-SHA1(key, keyTime), SHA1(policy)))."""
    start = int(time.time())
    end = start + 30 * 60
    key_time = f"{start};{end}"
    expiration = datetime.fromtimestamp(end, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    policy = (
        "{\n"
        f'    "expiration": "{expiration}",\n'
        '    "conditions": [\n'
        f'        {{ "bucket": "{bucket}" }},\n'
        '        { "q-sign-algorithm": "sha1" },\n'
        f'        {{ "q-ak": "{SECRET_ID}" }},\n'
        f'        {{ "q-sign-time":"{key_time}" }}\n'
        "    ]\n"
        "}"
    )
    sign_key = hmac.new(secret_key.encode(), key_time.encode(), hashlib.sha1).hexdigest()
    signature = hmac.new(sign_key.encode(), hashlib.sha1(policy.encode()).hexdigest().encode(), hashlib.sha1)
    fields = {  # HashMap<String, String> iteration order for these six names
        "q-sign-algorithm": "sha1",
        "q-ak": SECRET_ID,
        "q-signature": signature.hexdigest(),
        "q-key-time": key_time,
        "key": key,
        "policy": base64.b64encode(policy.encode()).decode(),
    }
    boundary = "----WebKitFormBoundaryZBPbaoYE2gqeB21N"
    parts = (f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items())
    head = "".join(parts)
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="test.jpg"\r\n'
    head += "Content-Type: image/jpeg\r\n\r\n"
    return boundary, head.encode() + content + f"\r\n--{boundary}--\r\n".encode()


def _post_raw(server: ServerProcess, bucket: str, boundary: str, body: bytes) -> httpx.Response:
    headers = {
        "Host": f"{bucket}.cos.{REGION}.myqcloud.com",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    return httpx.post(f"{server.endpoint}/", content=body, headers=headers)


def test_java_sdk_demo_form_is_stored(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    """COS checks the conditions a policy states and requires only the q-* ones; the demo's ``key``
    is in no condition and COS stores it (POST Object doc, 签名保护; the doc's own case 1 does the same)."""
    content = b"\xff\xd8 a jpeg from the Java demo \xff\xd9"
    boundary, body = _java_demo_body(bucket, "images/test.jpg", content)
    resp = _post_raw(server, bucket, boundary, body)
    assert resp.status_code == 204, resp.text
    assert resp.headers["ETag"] == f'"{hashlib.md5(content).hexdigest()}"'
    got = client.get_object(Bucket=bucket, Key="images/test.jpg")
    assert got["Body"].get_raw_stream().read() == content
    assert got["Content-Type"] == "image/jpeg"


def test_java_sdk_demo_form_with_a_wrong_key_or_for_another_bucket_is_refused(
    server: ServerProcess, client: CosS3Client, bucket: str
) -> None:
    boundary, body = _java_demo_body(bucket, "images/test.jpg", b"x", secret_key="not-the-key")
    assert "<Code>SignatureDoesNotMatch</Code>" in _post_raw(server, bucket, boundary, body).text
    other = f"other{bucket}"
    client.create_bucket(Bucket=other)
    boundary, body = _java_demo_body(bucket, "images/test.jpg", b"x")  # {"bucket": <bucket>} is stated
    refused = _post_raw(server, other, boundary, body)
    assert refused.status_code == 403 and "bucket" in refused.text, refused.text
    for name in (bucket, other):
        assert not client.list_objects(Bucket=name).get("Contents")


def test_browser_form_upload(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    conditions = [
        {"bucket": bucket},
        ["starts-with", "$key", "uploads/"],
        ["content-length-range", 1, 1000],
        {"success_action_status": "201"},
        {"x-cos-meta-source": "form"},
    ]
    fields = _form(bucket, conditions)
    fields |= {"key": "uploads/${filename}", "success_action_status": "201", "x-cos-meta-source": "form"}
    resp = _post(server, bucket, fields, b"form bytes")
    assert resp.status_code == 201, resp.text
    assert "<Key>uploads/clip.mp4</Key>" in resp.text
    assert resp.headers["ETag"] == f'"{hashlib.md5(b"form bytes").hexdigest()}"'
    got = client.get_object(Bucket=bucket, Key="uploads/clip.mp4")
    assert got["Body"].get_raw_stream().read() == b"form bytes"
    assert (got["Content-Type"], got["x-cos-meta-source"]) == ("video/mp4", "form")


def test_the_documented_policy_pins_the_bucket_and_the_key_prefix(
    server: ServerProcess, client: CosS3Client, bucket: str
) -> None:
    """docs/design-choices.md "Browser form uploads": COS requires only the q-* conditions, so a
    signed policy without ``bucket`` and ``$key`` conditions lets its holder write any key of any
    bucket until it expires; the documented policy, posted as a browser posts the documented form
    (path style, no Host header), writes only under its prefix in its bucket."""
    other = f"other{bucket}"
    client.create_bucket(Bucket=other)
    conditions = [
        {"bucket": bucket},
        ["starts-with", "$key", "uploads/alice/"],
        ["content-length-range", 1, 100 * 1024 * 1024],
    ]
    fields = _form(bucket, conditions) | {"key": "uploads/alice/${filename}"}
    stored = httpx.post(f"{server.endpoint}/{bucket}/", data=fields, files={"file": ("a.jpg", b"jpeg", "image/jpeg")})
    assert stored.status_code == 204, stored.text
    assert client.get_object(Bucket=bucket, Key="uploads/alice/a.jpg")["Body"].get_raw_stream().read() == b"jpeg"
    elsewhere = fields | {"key": "uploads/bob/a.jpg"}
    refused = httpx.post(f"{server.endpoint}/{bucket}/", data=elsewhere, files={"file": ("a.jpg", b"x")})
    assert refused.status_code == 403 and "key" in refused.text, refused.text
    refused = httpx.post(f"{server.endpoint}/{other}/", data=fields, files={"file": ("a.jpg", b"x")})
    assert refused.status_code == 403 and "bucket" in refused.text, refused.text
    # Without those two conditions the same kind of signature writes anywhere: what the docs warn of.
    loose = _form(bucket, []) | {"key": "anything/at/all.txt"}
    assert httpx.post(f"{server.endpoint}/{other}/", data=loose, files={"file": ("x", b"x")}).status_code == 204
    assert not client.object_exists(Bucket=bucket, Key="uploads/bob/a.jpg")
    assert client.object_exists(Bucket=other, Key="anything/at/all.txt")


def test_default_status_is_204_and_redirect_is_honoured(server: ServerProcess, bucket: str) -> None:
    fields = _form(bucket, [{"bucket": bucket}, {"key": "plain.txt"}]) | {"key": "plain.txt"}
    assert _post(server, bucket, fields, b"x").status_code == 204
    conditions = [{"bucket": bucket}, {"key": "plain.txt"}, {"success_action_redirect": "https://example.test/done"}]
    redirect = _form(bucket, conditions) | {"key": "plain.txt", "success_action_redirect": "https://example.test/done"}
    resp = _post(server, bucket, redirect, b"x")
    assert resp.status_code == 303 and resp.headers["location"].startswith("https://example.test/done?bucket=")
    # A field the policy names must match it; one it does not name is COS's to accept (as the
    # cos-js-sdk-v5 form demo sends success_action_redirect): name it to pin it.
    pinned = [{"bucket": bucket}, ["starts-with", "$success_action_redirect", "https://example.test/"]]
    smuggled = _form(bucket, pinned) | {"key": "plain.txt", "success_action_redirect": "https://evil.test/"}
    refused = _post(server, bucket, smuggled, b"x")
    assert refused.status_code == 403 and "success_action_redirect" in refused.text
    missing = _form(bucket, pinned) | {"key": "plain.txt"}
    refused = _post(server, bucket, missing, b"x")
    assert refused.status_code == 403 and "success_action_redirect" in refused.text
    unnamed = fields | {"success_action_redirect": "https://example.test/other"}
    assert _post(server, bucket, unnamed, b"x").headers["location"].startswith("https://example.test/other?")


@pytest.mark.parametrize(
    "mutate, code",
    [
        (lambda f: f | {"q-signature": "0" * 40}, "SignatureDoesNotMatch"),
        (lambda f: f | {"q-ak": "AKIDnobody"}, "InvalidAccessKeyId"),
        (lambda f: {k: v for k, v in f.items() if k != "policy"}, "AccessDenied"),
        (lambda f: f | {"key": "elsewhere/x"}, "AccessDenied"),  # violates starts-with
        (lambda f: f | {"policy": "not base64 json"}, "InvalidPolicyDocument"),
        (lambda f: f | {"q-key-time": "1;" + "9" * 5000}, "AccessDenied"),  # int() refuses 5,000 digits
        (lambda f: f | {"q-sign-time": "1;2"}, "AccessDenied"),  # the stated q-sign-time condition
    ],
)
def test_bad_forms_are_refused_and_store_nothing(
    server: ServerProcess, client: CosS3Client, bucket: str, mutate: object, code: str
) -> None:
    fields = _form(bucket, [{"bucket": bucket}, ["starts-with", "$key", "uploads/"]]) | {"key": "uploads/a"}
    resp = _post(server, bucket, mutate(fields), b"payload")  # type: ignore[operator]
    assert f"<Code>{code}</Code>" in resp.text, resp.text
    assert not client.list_objects(Bucket=bucket).get("Contents")


def test_a_policy_without_the_required_conditions_is_refused(
    server: ServerProcess, client: CosS3Client, bucket: str
) -> None:
    """COS marks the q-sign-algorithm, q-ak and q-sign-time conditions required (POST Object, 签名保护)."""
    fields = _form(bucket, [{"bucket": bucket}, {"key": "k"}], signed=False) | {"key": "k"}
    resp = _post(server, bucket, fields, b"x")
    assert resp.status_code == 400 and "<Code>InvalidPolicyDocument</Code>" in resp.text
    assert "q-sign-algorithm, q-ak, q-sign-time" in resp.text
    assert not client.list_objects(Bucket=bucket).get("Contents")


def test_content_length_range_and_expired_policy(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    too_big = _form(bucket, [["content-length-range", 0, 4], {"key": "big"}]) | {"key": "big"}
    assert "<Code>EntityTooLarge</Code>" in _post(server, bucket, too_big, b"12345").text
    too_small = _form(bucket, [["content-length-range", 10, 40], {"key": "small"}]) | {"key": "small"}
    assert "<Code>EntityTooSmall</Code>" in _post(server, bucket, too_small, b"12345").text
    expired = _form(bucket, [{"key": "late"}], ttl=-5) | {"key": "late"}
    assert "AccessDenied" in _post(server, bucket, expired, b"1").text
    assert not client.list_objects(Bucket=bucket).get("Contents")


def test_unauthorised_form_is_refused_before_its_file_is_read(server: ServerProcess, bucket: str) -> None:
    """The policy is checked before the file part is read: the server answers 403 while the
    client is still sending a (promised) 100 MB file, and stores nothing of it."""
    import socket

    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    boundary = "----cosflowboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nbig.bin\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="policy"\r\n\r\nbm90IGEgcG9saWN5\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    promised = len(head) + 100 * 1024 * 1024
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {promised}\r\n\r\n".encode()
            + head
            + b"x" * 65536
        )
        reply = ""
        while "</Error>" not in reply:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk.decode("latin-1")
    assert reply.startswith("HTTP/1.1 403") and "<Code>InvalidAccessKeyId</Code>" in reply


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nthis is not a part header\r\n\r\n--xyz--"),
        (
            "multipart/form-data; boundary=xyz",
            b'--xyz\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--xyz--',
        ),
        ("text/plain", b"key=value"),
    ],
    ids=["bad-part", "no-file", "not-multipart"],
)
def test_malformed_forms_are_400(
    server: ServerProcess, client: CosS3Client, bucket: str, content_type: str, body: bytes
) -> None:
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    resp = httpx.post(f"{server.endpoint}/", content=body, headers={"Host": host, "Content-Type": content_type})
    assert resp.status_code == 400 and "<Code>InvalidArgument</Code>" in resp.text, resp.text
    assert not client.list_objects(Bucket=bucket).get("Contents")


@pytest.mark.parametrize(
    "extra, named",
    [
        ({"x-cos-meta-note": "a\r\nX-Evil: 1"}, "x-cos-meta-note"),
        ({"Content-Disposition": "attachment\x00"}, "content-disposition"),
        ({"x-cos-meta-bad name": "v"}, "x-cos-meta-"),
    ],
    ids=["meta-crlf", "disposition-nul", "meta-name-with-space"],
)
def test_form_fields_that_cannot_be_headers_are_refused(
    server: ServerProcess, client: CosS3Client, bucket: str, extra: dict[str, str], named: str
) -> None:
    """Stored form fields are sent back as headers on every GET: a value a header cannot carry
    used to be stored, and every GET of the object then lost its connection (issue 9, defect 4)."""
    fields = _form(bucket, [{"bucket": bucket}, {"key": "k"}]) | {"key": "k"} | extra
    resp = _post(server, bucket, fields, b"x")
    assert resp.status_code == 400 and "<Code>InvalidArgument</Code>" in resp.text, resp.text
    assert named in resp.text.lower()
    assert not client.list_objects(Bucket=bucket).get("Contents")


def test_form_key_that_is_not_utf8_is_refused(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    """The key field was decoded with U+FFFD replacement: b'\\xff' and b'\\xfe' stored one object."""
    fields: dict[str, str | bytes] = {**_form(bucket, [{"bucket": bucket}]), "key": b"up/\xff"}
    resp = _post(server, bucket, fields, b"x")  # type: ignore[arg-type]
    assert resp.status_code == 400 and "<Code>InvalidArgument</Code>" in resp.text, resp.text
    assert "'key'" in resp.text and "UTF-8" in resp.text
    assert not client.list_objects(Bucket=bucket).get("Contents")
