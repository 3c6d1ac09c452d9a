"""Presigned links made by the official SDK in the README's IP/Port configuration, opened exactly as
given by curl, urllib and httpx (no Host header, no rewriting): README "Hand out a link".

In IP/Port mode the SDK's ``get_presigned_url`` signs the host of its URL, ``127.0.0.1``, and the
path ``/<key>``: the bucket is neither in the URL nor in the signature. Passed
``Headers={"Host": <bucket host>}`` (the Host the same SDK sends with every other call in that
mode), the signature names the bucket, and the server finds which bucket host it was made for.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from qcloud_cos import CosS3Client

from cosflow.api.links import MAX_LINK_BUCKETS
from tests.conftest import make_client
from tests.support.receiver import Receiver
from tests.support.server import APPID, REGION, ServerProcess
from tests.support.signing import error_code
from tests.support.templates import transcode_template
from tests.support.workflows import node, workflow_body


def _host(bucket: str) -> str:
    return f"{bucket}.cos.{REGION}.myqcloud.com"


def _link(client: CosS3Client, bucket: str, key: str, method: str = "GET", **extra: object) -> str:
    """The README's recipe: the SDK signs the bucket host the server knows the bucket by."""
    return client.get_presigned_url(Bucket=bucket, Key=key, Method=method, Headers={"Host": _host(bucket)}, **extra)


def _urlopen(url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def _curl(*args: str) -> bytes:
    return subprocess.run(["curl", "-sS", "--fail-with-body", *args], check=True, capture_output=True).stdout


def test_readme_get_link_opens_in_curl_urllib_and_httpx(
    server: ServerProcess, client: CosS3Client, bucket: str
) -> None:
    key = "out/报告 1-hd.mp4"
    client.put_object(Bucket=bucket, Key=key, Body=b"transcoded bytes")
    url = _link(client, bucket, key)
    assert urlsplit(url).netloc == f"127.0.0.1:{server.port}"  # as the SDK makes it: no bucket
    assert _urlopen(url)[:2] == (200, b"transcoded bytes")
    assert _curl(url) == b"transcoded bytes"
    assert httpx.get(url).content == b"transcoded bytes"
    download = client.get_presigned_download_url(Bucket=bucket, Key=key, Headers={"Host": _host(bucket)})
    assert _curl(download) == b"transcoded bytes"
    head = httpx.head(_link(client, bucket, key, "HEAD"))
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(b"transcoded bytes"))


def test_readme_put_link_stores_the_body(
    server: ServerProcess, client: CosS3Client, bucket: str, tmp_path: Path
) -> None:
    url = _link(client, bucket, "in/from-a-link.bin", "PUT")
    status, _, headers = _urlopen(url, "PUT", b"uploaded by urllib")
    assert status == 200 and headers["ETag"]
    got = client.get_object(Bucket=bucket, Key="in/from-a-link.bin")["Body"].get_raw_stream().read()
    assert got == b"uploaded by urllib"
    assert httpx.put(_link(client, bucket, "in/httpx.bin", "PUT"), content=b"by httpx").status_code == 200
    assert client.get_object(Bucket=bucket, Key="in/httpx.bin")["Body"].get_raw_stream().read() == b"by httpx"
    (tmp_path / "file").write_bytes(b"by curl")
    _curl("-T", str(tmp_path / "file"), _link(client, bucket, "in/curl.bin", "PUT"))
    assert client.get_object(Bucket=bucket, Key="in/curl.bin")["Body"].get_raw_stream().read() == b"by curl"
    # A PUT link is for PUT: it neither reads nor deletes.
    assert httpx.get(url).status_code == 403
    assert httpx.delete(url).status_code == 403
    assert client.get_object(Bucket=bucket, Key="in/from-a-link.bin")["Body"].get_raw_stream().read() == got


def test_link_with_signed_params(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="out/a.mp4", Body=b"mp4")
    params = {"response-content-disposition": 'attachment; filename="car-hd.mp4"'}
    url = _link(client, bucket, "out/a.mp4", Params=params)
    status, body, headers = _urlopen(url)
    assert (status, body) == (200, b"mp4")
    assert headers["Content-Disposition"] == 'attachment; filename="car-hd.mp4"'
    tampered = url.replace("car-hd.mp4", "evil.html")
    resp = httpx.get(tampered)
    assert (resp.status_code, error_code(resp)) == (403, "SignatureDoesNotMatch")


def test_expired_link_is_403(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="soon.txt", Body=b"soon")
    url = _link(client, bucket, "soon.txt", Expired=1)
    assert _urlopen(url)[:2] == (200, b"soon")
    time.sleep(2.1)
    status, body, _ = _urlopen(url)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body and b"expired" in body


def test_a_link_for_bucket_a_never_opens_bucket_b(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    other = f"other{bucket}"
    client.create_bucket(Bucket=other)
    client.put_object(Bucket=bucket, Key="same.txt", Body=b"A's bytes")
    client.put_object(Bucket=other, Key="same.txt", Body=b"B's bytes")
    url = _link(client, bucket, "same.txt")
    assert httpx.get(url).content == b"A's bytes"
    assert httpx.get(_link(client, other, "same.txt")).content == b"B's bytes"
    parts = urlsplit(url)
    # Aimed at B by path style, or by B's Host: the signature names A's host, so neither opens.
    by_path = httpx.get(f"{server.endpoint}/{other}/same.txt?{parts.query}")
    by_host = httpx.get(url, headers={"Host": _host(other)})
    for resp in (by_path, by_host):
        assert (resp.status_code, error_code(resp)) == (403, "SignatureDoesNotMatch")
    # A PUT link for A stores into A only.
    httpx.put(_link(client, bucket, "same.txt", "PUT"), content=b"new A")
    assert client.get_object(Bucket=bucket, Key="same.txt")["Body"].get_raw_stream().read() == b"new A"
    assert client.get_object(Bucket=other, Key="same.txt")["Body"].get_raw_stream().read() == b"B's bytes"


def test_a_key_whose_first_segment_is_another_bucket(server: ServerProcess, client: CosS3Client, bucket: str) -> None:
    """``/<B>/x`` could be path style for B's key ``x``: the signature decides, never the shape."""
    other = f"other{bucket}"
    client.create_bucket(Bucket=other)
    client.put_object(Bucket=bucket, Key=f"{other}/x", Body=b"A's key")
    client.put_object(Bucket=other, Key="x", Body=b"B's key")
    assert httpx.get(_link(client, bucket, f"{other}/x")).content == b"A's key"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_link_signed_for_no_bucket_opens_nothing(
    server: ServerProcess, client: CosS3Client, bucket: str, method: str
) -> None:
    """The plain IP/Port link (signed over 127.0.0.1 and /<key>) would open that key in every
    bucket: refused with a message that says how to make a working one."""
    client.put_object(Bucket=bucket, Key="out/plain.txt", Body=b"keep")
    url = client.get_presigned_url(Bucket=bucket, Key="out/plain.txt", Method=method)
    resp = httpx.request(method, url, content=b"overwrite" if method == "PUT" else None)
    assert resp.status_code == 404 and error_code(resp) == "NoSuchBucket", resp.text
    assert "Headers" in resp.text and "Host" in resp.text
    assert client.get_object(Bucket=bucket, Key="out/plain.txt")["Body"].get_raw_stream().read() == b"keep"


def test_readme_link_to_an_output_named_in_a_callback(callback_server: ServerProcess) -> None:
    """The README's recipe end to end: a TaskFinish names the output, the SDK signs a link, curl
    fetches the output's bytes."""
    client = make_client(callback_server.port)
    bucket = "links1-1250000000"
    client.create_bucket(Bucket=bucket)
    receiver = Receiver().start()
    try:
        transcode = {
            "Transcode_1": node(
                "Transcode", "out/${InputName}-hd.${Ext}", TemplateId=transcode_template(client, bucket)
            )
        }
        notify = {"Url": receiver.url, "Type": "Url", "Event": "TaskFinish", "ResultFormat": "JSON", "State": "On"}
        body = workflow_body(
            "links",
            {"Start": "Transcode_1", "Transcode_1": "End"},
            transcode,
            prefix="in/",
            state="Active",
            notify=notify,
        )
        client.ci_create_workflow(Bucket=bucket, Body=body)
        client.put_object(Bucket=bucket, Key="in/car.mp4", Body=b"car")
        (got,) = receiver.wait_for(1)
    finally:
        receiver.stop()
    # -- as in the README --
    out = json.loads(got.body)["JobsDetail"]["Operation"]["MediaResult"]["OutputFile"]
    bucket, key = out["Bucket"], out["ObjectName"][0]
    url = client.get_presigned_url(
        Bucket=bucket, Key=key, Method="GET", Expired=3600, Headers={"Host": f"{bucket}.cos.ap-guangzhou.myqcloud.com"}
    )
    # --
    assert key == "out/car-hd.mp4"
    assert _curl(url) == client.get_object(Bucket=bucket, Key=key)["Body"].get_raw_stream().read()


# --- a server with as many buckets as links are matched against -------------------------------------
Crowd = tuple[ServerProcess, CosS3Client, list[str]]


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crowd]:
    """A server of its own holding MAX_LINK_BUCKETS buckets, each made through the API."""
    server = ServerProcess(tmp_path_factory.mktemp("crowded")).start()
    try:
        client = make_client(server.port)
        names = [f"crowd{n:04d}-{APPID}" for n in range(MAX_LINK_BUCKETS)]
        with httpx.Client(base_url=server.endpoint) as http:
            for name in names:
                auth = client.get_auth(Method="PUT", Bucket=name, Key=f"{name}/")
                http.put(f"/{name}/", headers={"Authorization": auth}).raise_for_status()
        yield server, client, names
    finally:
        server.stop()


def test_a_forged_link_against_many_buckets_is_refused(crowded: Crowd) -> None:
    """A link with a known SecretId and a current window that fits no bucket host is tried against
    every bucket (docs/design-choices.md, "Presigned links on the bare host"): refused, changing
    nothing. What the search costs is measured by bench/links_bench.py (docs/benchmarks.md), not
    asserted here: timed assertions fail on a loaded machine."""
    server, client, names = crowded
    first, last = names[0], names[-1]
    for bucket in (first, last):
        client.put_object(Bucket=bucket, Key="out/a.txt", Body=f"{bucket} bytes".encode())
    nowhere = f"nosuchbucket-{APPID}"
    forged_get = _link(client, nowhere, "out/a.txt")
    forged_put = _link(client, nowhere, "in/forged.bin", "PUT")
    tampered = _link(client, last, "out/a.txt").replace("q-signature=", "q-signature=0")
    with httpx.Client(timeout=30) as http:
        for resp in (http.get(forged_get), http.put(forged_put, content=b"x"), http.get(tampered)):
            assert (resp.status_code, error_code(resp)) == (403, "SignatureDoesNotMatch"), resp.text
        for bucket in (first, last):  # the search still finds the first and the last bucket
            assert http.get(_link(client, bucket, "out/a.txt")).content == f"{bucket} bytes".encode()
            assert not client.object_exists(Bucket=bucket, Key="in/forged.bin")


def test_past_the_bucket_limit_links_are_not_matched(crowded: Crowd) -> None:
    """The search is bounded: with more than MAX_LINK_BUCKETS buckets a bare-host link is refused
    (also one opened before), and opens again once the count is back under the limit."""
    _, client, names = crowded
    client.put_object(Bucket=names[0], Key="limit.txt", Body=b"within the limit")
    url = _link(client, names[0], "limit.txt")
    assert httpx.get(url).content == b"within the limit"
    extra = f"crowdextra-{APPID}"
    client.create_bucket(Bucket=extra)
    try:
        resp = httpx.get(url)
        assert (resp.status_code, error_code(resp)) == (403, "SignatureDoesNotMatch")
    finally:
        client.delete_bucket(Bucket=extra)
    assert httpx.get(url).content == b"within the limit"
