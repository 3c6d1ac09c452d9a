"""Routing: CI-shaped requests on the object host go to CI; everything else stays the object API."""

from __future__ import annotations

import httpx
from qcloud_cos import CosS3Client

from tests.support.server import REGION, ServerProcess
from tests.support.signing import signed

HEX = "0123456789abcdef" * 2


def test_objects_named_like_ci_paths_stay_objects(client: CosS3Client, bucket: str) -> None:
    for key in ("workflow", "jobs/a.mp4", "template", "queue", "workflowexecution/x", f"workflow/w{HEX}x"):
        client.put_object(Bucket=bucket, Key=key, Body=key.encode())
        assert client.get_object(Bucket=bucket, Key=key)["Body"].get_raw_stream().read() == key.encode()
        assert client.head_object(Bucket=bucket, Key=key)["Content-Length"] == str(len(key))
    keys = [c["Key"] for c in client.list_objects(Bucket=bucket)["Contents"]]
    assert "workflow" in keys and "jobs/a.mp4" in keys


def test_ci_shaped_requests_on_the_object_host_reach_ci(
    client: CosS3Client, server: ServerProcess, bucket: str
) -> None:
    cases = [
        ("POST", "/workflow", {}),
        ("GET", "/workflow", {"ids": "", "name": "", "pageNumber": "", "pageSize": ""}),
        ("PUT", f"/workflow/w{HEX}", {"active": ""}),
        ("GET", f"/workflowexecution/i{HEX}", {}),
        ("POST", "/triggerworkflow", {"workflowId": f"w{HEX}", "object": "a.mp4"}),
    ]
    for method, path, params in cases:
        resp = signed(client, server, bucket, method, path, params)
        assert "x-ci-request-id" in resp.headers, (method, path)
        assert resp.headers["Server"] == "tencent-ci"
        assert "<RequestId>" in resp.text  # a CI response or a CI error, never object data
    # None of them created an object.
    assert not client.list_objects(Bucket=bucket).get("Contents")


def test_ci_host_is_always_ci(client: CosS3Client, server: ServerProcess, bucket: str) -> None:
    resp = signed(client, server, bucket, "GET", "/a.mp4", svc="ci")
    assert "x-ci-request-id" in resp.headers and resp.status_code == 400
    anonymous = httpx.post(f"{server.endpoint}/workflow", headers={"Host": f"{bucket}.ci.{REGION}.myqcloud.com"})
    assert anonymous.status_code == 403 and "x-ci-request-id" in anonymous.headers


def test_bare_host_is_path_style_and_root_is_service(client: CosS3Client, server: ServerProcess, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="dir/file name.txt", Body=b"ps")
    host = f"127.0.0.1:{server.port}"
    auth = client.get_auth(Method="GET", Bucket=bucket, Key=f"{bucket}/dir/file name.txt", Headers={"Host": host})
    resp = httpx.get(f"{server.endpoint}/{bucket}/dir/file%20name.txt", headers={"Authorization": auth})
    assert resp.content == b"ps"
    service = client.list_buckets()
    assert bucket in str(service["Buckets"])
