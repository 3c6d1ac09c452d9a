"""Regression tests for review findings in request authentication (q-sign), against a real server."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import httpx
from qcloud_cos import CosConfig, CosS3Client

from cosflow.domain import qsign
from tests.support.server import APPID, REGION, SECRET_ID, SECRET_KEY, ServerProcess


def _host(bucket: str) -> str:
    return f"{bucket}.cos.{REGION}.myqcloud.com"


def _send(server: ServerProcess, url: str) -> httpx.Response:
    parts = urlsplit(url)
    return httpx.get(f"{server.endpoint}{parts.path}?{parts.query}", headers={"Host": parts.netloc})


def test_expired_presigned_url_cannot_be_revived_by_editing_q_sign_time(
    server: ServerProcess, client: CosS3Client, bucket: str
) -> None:
    """The signature covers q-key-time only; the expiry check reads q-sign-time. Anyone holding an
    expired link (logs, browser history, a shared chat) can rewrite q-sign-time and use it forever."""
    client.put_object(Bucket=bucket, Key="old-link", Body=b"secret")
    signer = CosS3Client(CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY, Scheme="http"))
    url = signer.get_presigned_url(Bucket=bucket, Key="old-link", Method="GET", Expired=-30)
    assert _send(server, url).status_code == 403  # expired, as it should be
    now = int(time.time())
    revived = re.sub(r"q-sign-time=[^&]+", f"q-sign-time={now - 10}%3B{now + 3600}", url)
    assert _send(server, revived).status_code == 403


def test_duplicate_query_parameter_cannot_override_a_signed_one(
    server: ServerProcess, client: CosS3Client, bucket: str
) -> None:
    """Verification signs the FIRST value of a repeated parameter, the handler reads the LAST.
    A link signed for ``prefix=public/`` then lists the whole bucket."""
    client.put_object(Bucket=bucket, Key="public/a", Body=b"a")
    client.put_object(Bucket=bucket, Key="private/b", Body=b"b")
    now = int(time.time())
    auth = qsign.authorization_header(
        SECRET_ID, SECRET_KEY, f"{now - 60};{now + 300}", "GET", "/", {"prefix": "public/"}, {"host": _host(bucket)}
    )
    listed = httpx.get(f"{server.endpoint}/?prefix=public%2F&{auth}", headers={"Host": _host(bucket)})
    assert listed.status_code == 200 and "public/a" in listed.text and "private/b" not in listed.text
    resp = httpx.get(f"{server.endpoint}/?prefix=public%2F&{auth}&prefix=private%2F", headers={"Host": _host(bucket)})
    assert "private/b" not in resp.text, resp.text


def test_path_style_bucket_signature_does_not_open_every_key(
    server: ServerProcess, client: CosS3Client, bucket: str
) -> None:
    """Path style accepts a signature over ``/<bucket>/`` for ANY key in the bucket: a GET signed
    to list the bucket (or a DELETE signed for the bucket) works on every object."""
    client.put_object(Bucket=bucket, Key="secret.txt", Body=b"secret")
    host = f"127.0.0.1:{server.port}"
    auth = client.get_auth(Method="GET", Bucket=bucket, Key=f"{bucket}/", Headers={"Host": host})
    resp = httpx.get(f"{server.endpoint}/{bucket}/secret.txt", headers={"Authorization": auth})
    assert resp.status_code == 403, resp.content


def test_path_style_signature_is_bound_to_its_bucket(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    """A path-style link signed over ``/<key>`` for one bucket also opens that key in every other bucket."""
    other = f"reviewother{int(time.time() * 1000) % 10**6}-{APPID}"
    client.create_bucket(Bucket=other)
    client.put_object(Bucket=other, Key="report.pdf", Body=b"other bucket's report")
    host = f"127.0.0.1:{server.port}"
    auth = client.get_auth(Method="GET", Bucket=bucket, Key="report.pdf", Headers={"Host": host})
    resp = httpx.get(f"{server.endpoint}/{other}/report.pdf", headers={"Authorization": auth})
    assert resp.status_code == 403, resp.content
