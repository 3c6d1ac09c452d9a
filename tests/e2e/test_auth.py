"""q-sign authentication: header and query forms, and every way it can fail (spec §2)."""

from __future__ import annotations

import time
from urllib.parse import quote, urlsplit

import httpx
import pytest
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from tests.conftest import make_client
from tests.support.refusals import assert_absent
from tests.support.server import REGION, SECRET_ID, SECRET_KEY, ServerProcess
from tests.support.signing import error_code


def _host(bucket: str) -> str:
    return f"{bucket}.cos.{REGION}.myqcloud.com"


def _domain_client(**extra: object) -> CosS3Client:
    """A client in its default (domain) mode: it signs the real bucket host, as for a browser link."""
    return CosS3Client(CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY, Scheme="http", **extra))


def _send(server: ServerProcess, url: str, method: str = "GET", **kwargs: object) -> httpx.Response:
    """Send a URL made for the real COS host to our server, with that Host header (like curl --connect-to)."""
    parts = urlsplit(url)
    headers = {"Host": parts.netloc, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    local = f"{server.endpoint}{parts.path}" + (f"?{parts.query}" if parts.query else "")
    return httpx.request(method, local, headers=headers, **kwargs)  # type: ignore[arg-type]


def test_unknown_secret_id(server: ServerProcess, bucket: str) -> None:
    stranger = make_client(server.port, secret_id="AKIDnobody", secret_key=SECRET_KEY)
    with pytest.raises(CosServiceError) as err:
        stranger.put_object(Bucket=bucket, Key="x", Body=b"x")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (403, "InvalidAccessKeyId")


def test_wrong_secret_key(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    impostor = make_client(server.port, secret_key="not-the-key")
    with pytest.raises(CosServiceError) as err:
        impostor.put_object(Bucket=bucket, Key="x", Body=b"x")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (403, "SignatureDoesNotMatch")
    assert_absent(client, bucket, "x")


def test_expired_signature(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="e", Body=b"e")
    auth = client.get_auth(Method="GET", Bucket=bucket, Key="e", Expired=-1, Headers={"Host": _host(bucket)})
    resp = httpx.get(f"{server.endpoint}/e", headers={"Host": _host(bucket), "Authorization": auth})
    assert (resp.status_code, error_code(resp)) == (403, "AccessDenied")
    assert "expired" in resp.text


def test_presigned_url_expires(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="soon", Body=b"soon")
    url = _domain_client().get_presigned_url(Bucket=bucket, Key="soon", Method="GET", Expired=1)
    assert _send(server, url).content == b"soon"
    time.sleep(2.1)
    late = _send(server, url)
    assert (late.status_code, error_code(late)) == (403, "AccessDenied")


def test_no_credentials_on_private_bucket(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="p", Body=b"p")
    for method in ("GET", "HEAD", "PUT", "DELETE"):
        resp = httpx.request(method, f"{server.endpoint}/p", headers={"Host": _host(bucket)})
        assert resp.status_code == 403, method
        assert resp.headers["x-cos-request-id"]
    listing = httpx.get(f"{server.endpoint}/", headers={"Host": _host(bucket)})
    assert (listing.status_code, error_code(listing)) == (403, "AccessDenied")
    assert client.get_object(Bucket=bucket, Key="p")["Body"].get_raw_stream().read() == b"p"


def test_tampered_signed_header_is_rejected_and_stores_nothing(
    server: ServerProcess, client: CosS3Client, bucket: str
) -> None:
    headers = {"Host": _host(bucket), "x-cos-meta-owner": "alice", "Content-Type": "text/plain"}
    auth = client.get_auth(Method="PUT", Bucket=bucket, Key="t", Headers=headers)
    ok = httpx.put(f"{server.endpoint}/t", content=b"signed", headers={**headers, "Authorization": auth})
    assert ok.status_code == 200
    tampered = {**headers, "x-cos-meta-owner": "mallory", "Authorization": auth}
    resp = httpx.put(f"{server.endpoint}/t", content=b"tampered", headers=tampered)
    assert (resp.status_code, error_code(resp)) == (403, "SignatureDoesNotMatch")
    missing = {k: v for k, v in tampered.items() if k != "x-cos-meta-owner"}
    resp = httpx.put(f"{server.endpoint}/t", content=b"tampered", headers=missing)
    assert (resp.status_code, error_code(resp)) == (403, "SignatureDoesNotMatch") and "x-cos-meta-owner" in resp.text
    got = client.get_object(Bucket=bucket, Key="t")
    assert got["Body"].get_raw_stream().read() == b"signed" and got["x-cos-meta-owner"] == "alice"


def test_signature_covers_path_and_method(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="a", Body=b"a")
    client.put_object(Bucket=bucket, Key="b", Body=b"b")
    auth = client.get_auth(Method="GET", Bucket=bucket, Key="a", Headers={"Host": _host(bucket)})
    other_key = httpx.get(f"{server.endpoint}/b", headers={"Host": _host(bucket), "Authorization": auth})
    assert (other_key.status_code, error_code(other_key)) == (403, "SignatureDoesNotMatch")
    other_method = httpx.delete(f"{server.endpoint}/a", headers={"Host": _host(bucket), "Authorization": auth})
    assert (other_method.status_code, error_code(other_method)) == (403, "SignatureDoesNotMatch")
    assert client.get_object(Bucket=bucket, Key="a")["Body"].get_raw_stream().read() == b"a"


def test_presigned_get_and_put_with_plain_http(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    signer = _domain_client()
    key = "shared/报告 1.txt"
    put_url = signer.get_presigned_url(Bucket=bucket, Key=key, Method="PUT", Expired=300)
    assert _send(server, put_url, "PUT", content=b"uploaded by link").status_code == 200
    get_url = signer.get_presigned_url(Bucket=bucket, Key=key, Method="GET", Expired=300)
    resp = _send(server, get_url)
    assert resp.status_code == 200 and resp.content == b"uploaded by link"
    # A signed parameter can't be changed; an unsigned extra one is ignored.
    with_param = signer.get_presigned_url(
        Bucket=bucket, Key=key, Method="GET", Params={"response-content-type": "text/csv"}
    )
    assert _send(server, with_param).headers["Content-Type"] == "text/csv"
    tampered = _send(server, with_param.replace("text%2Fcsv", "text%2Fhtml"))
    assert (tampered.status_code, error_code(tampered)) == (403, "SignatureDoesNotMatch")
    assert _send(server, get_url + "&extra=1").status_code == 200
    # Go SDK form: the whole authorization in one `sign` parameter.
    auth = client.get_auth(Method="GET", Bucket=bucket, Key=key, Headers={"Host": _host(bucket)})
    merged = f"{server.endpoint}/{quote(key)}?sign={quote(auth, safe='')}"
    assert httpx.get(merged, headers={"Host": _host(bucket)}).content == b"uploaded by link"


def test_security_token_is_accepted(server: ServerProcess, bucket: str) -> None:
    temporary = make_client(server.port, Token="any-session-token")
    temporary.put_object(Bucket=bucket, Key="tok", Body=b"tok")
    assert temporary.get_object(Bucket=bucket, Key="tok")["Body"].get_raw_stream().read() == b"tok"


def test_path_style_request_signed_over_bucket_and_key(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    """curl/path-style: /<bucket>/<key> on the bare host, signed over /<bucket>/<key> (the bare Host
    names no bucket, so a signature over /<key> alone is refused: it would open that key anywhere)."""
    client.put_object(Bucket=bucket, Key="ps.txt", Body=b"path style")
    host = f"127.0.0.1:{server.port}"
    auth = client.get_auth(Method="GET", Bucket=bucket, Key=f"{bucket}/ps.txt", Headers={"Host": host})
    assert httpx.get(f"{server.endpoint}/{bucket}/ps.txt", headers={"Authorization": auth}).content == b"path style"
    bare = client.get_auth(Method="GET", Bucket=bucket, Key="ps.txt", Headers={"Host": host})
    refused = httpx.get(f"{server.endpoint}/{bucket}/ps.txt", headers={"Authorization": bare})
    assert (refused.status_code, error_code(refused)) == (403, "SignatureDoesNotMatch")


def test_unsigned_x_cos_headers_are_refused(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    """A presigned PUT (signed over host only) cannot be turned into a copy of a private object."""
    client.put_object(Bucket=bucket, Key="private.txt", Body=b"private")
    url = _domain_client().get_presigned_url(Bucket=bucket, Key="drop.txt", Method="PUT", Expired=300)
    copy_source = f"{bucket}.cos.{REGION}.myqcloud.com/private.txt"
    resp = _send(server, url, "PUT", content=b"", headers={"x-cos-copy-source": copy_source})
    assert (resp.status_code, error_code(resp)) == (403, "SignatureDoesNotMatch") and "x-cos-copy-source" in resp.text
    assert_absent(client, bucket, "drop.txt")


def test_signed_parameter_names_needing_encoding(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="enc", Body=b"enc")
    params = {"a b": "c/d", "Mixed_Case": "é"}
    auth = client.get_auth(Method="GET", Bucket=bucket, Key="enc", Params=params, Headers={"Host": _host(bucket)})
    resp = httpx.get(f"{server.endpoint}/enc", params=params, headers={"Host": _host(bucket), "Authorization": auth})
    assert resp.status_code == 200 and resp.content == b"enc"
